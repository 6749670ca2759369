/**
 * Document text extraction on real files made in the test (a hand-written PDF, a DOCX zipped
 * with node:zlib): types sniffed from the bytes whatever the name says, text per PDF page,
 * strict text decoding, and every malformed or unsupported file a 415/422 value, never a throw.
 */
import { describe, expect, it } from 'vitest';
import { makeDocx, makePdf, makeZip } from '../../test/fixtures/documents.js';
import { extractDocument, sniffDocument, toPassages } from './extract-text.js';

const opts = { maxChars: 100_000 };

describe('extractDocument', () => {
  it('reads a PDF page by page, whatever the file is called', async () => {
    const pdf = makePdf([['Quarterly budget review', 'Marketing spend is up 12 percent.'], ['Action: hire two engineers (by March).']]);
    const r = await extractDocument(pdf, 'notes.txt', opts);
    expect(r).toMatchObject({ ok: true, kind: 'pdf', pages: 2, truncated: false });
    if (!r.ok) return;
    expect(r.parts.map((p) => p.page)).toEqual([1, 2]);
    expect(r.parts[0]!.text).toContain('Quarterly budget review');
    expect(r.parts[0]!.text).toContain('Marketing spend is up 12 percent.');
    expect(r.parts[1]!.text).toContain('Action: hire two engineers (by March).');
  });

  it('reads a DOCX', async () => {
    const r = await extractDocument(makeDocx(['Agenda', 'Pricing page & legal wording', 'Beta <feedback> survey']), 'agenda.bin', opts);
    expect(r).toMatchObject({ ok: true, kind: 'docx', pages: null });
    if (r.ok) expect(r.parts[0]!.text.split('\n\n')).toEqual(['Agenda', 'Pricing page & legal wording', 'Beta <feedback> survey']);
  });

  it('reads UTF-8 text, markdown by its name, and UTF-16 with a byte-order mark', async () => {
    expect(await extractDocument(Buffer.from('Grüße\r\nfrom the team'), 'a.txt', opts)).toMatchObject({ ok: true, kind: 'txt', parts: [{ text: 'Grüße\nfrom the team' }] });
    expect(await extractDocument(Buffer.from('# Plan\n\n- ship'), 'plan.MD', opts)).toMatchObject({ ok: true, kind: 'md' });
    // A PDF-looking name does not make text a PDF.
    expect(await extractDocument(Buffer.from('just text'), 'fake.pdf', opts)).toMatchObject({ ok: true, kind: 'txt' });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hello wörld', 'utf16le')]);
    expect(await extractDocument(utf16, 'u.txt', opts)).toMatchObject({ ok: true, kind: 'txt', parts: [{ text: 'hello wörld' }] });
  });

  it('cuts the text at maxChars and says so', async () => {
    const r = await extractDocument(Buffer.from('x'.repeat(5000)), 'long.txt', { maxChars: 1200 });
    expect(r).toMatchObject({ ok: true, textChars: 1200, truncated: true });
  });

  it.each([
    ['an empty file', Buffer.alloc(0), 415],
    ['random bytes', Buffer.from(Array.from({ length: 512 }, (_v, i) => (i * 37 + 11) % 256)), 415],
    ['a legacy .doc', Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(600)]), 415],
    ['a ZIP that is not a Word document', makeZip([{ name: 'xl/workbook.xml', data: '<workbook/>' }]), 415],
    ['a truncated PDF', makePdf([['hello']]).subarray(0, 60), 422],
    ['a PDF header over garbage', Buffer.from('%PDF-1.7\n' + 'garbage '.repeat(100)), 422],
    ['a DOCX cut in half', makeDocx(['hello world']).subarray(0, 200), 422],
    ['a DOCX whose document.xml is not XML', makeZip([{ name: 'word/document.xml', data: 'not xml at all <<<' }, { name: '[Content_Types].xml', data: '<Types/>' }]), 422],
    [
      'a zip bomb that lies about its size',
      makeZip([{ name: 'word/document.xml', data: Buffer.alloc(5_000_000, 0x41), declaredSize: 1000 }]),
      422,
    ],
  ])('refuses %s', async (_label, bytes, status) => {
    const r = await extractDocument(bytes, 'upload.docx', opts);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(status);
      expect(r.message.length).toBeGreaterThan(5);
    }
  });

  it('sniffs a PDF even with junk before its header', () => {
    expect(sniffDocument(Buffer.concat([Buffer.from('\n\n  '), makePdf([['x']])]), 'x').kind).toBe('pdf');
  });
});

describe('toPassages', () => {
  it('splits on paragraphs into passages of bounded size and keeps page numbers', () => {
    const para = (n: number) => `paragraph ${n} ` + 'word '.repeat(60);
    const passages = toPassages([{ page: 3, text: [1, 2, 3, 4, 5, 6].map(para).join('\n\n') }], 700);
    expect(passages.length).toBeGreaterThan(1);
    for (const p of passages) {
      expect(p.page).toBe(3);
      expect(p.text.length).toBeLessThanOrEqual(700);
    }
    expect(passages.map((p) => p.text).join('\n\n')).toContain('paragraph 6');
  });
});
