/**
 * A local OpenAI audio transcription endpoint for tests, reached by the official SDK through
 * OPENAI_BASE_URL (`<origin>/v1`). It speaks `POST /v1/audio/transcriptions` as the API does:
 * multipart form (`file`, `model`, `response_format`, `timestamp_granularities[]`,
 * `language`), `Authorization: Bearer <key>`, error bodies `{"error":{message,type,param,code}}`
 * (401 invalid_api_key, 400 for what the real API refuses, e.g. verbose_json with a gpt-4o
 * model), and answers `json` `{text, usage}` or whisper-1's `verbose_json` `{task, language,
 * duration, text, words[{word,start,end}], segments[…]}` (seconds). What it hears is what
 * pocketsphinx makes of the uploaded file.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { fakeEngine, sentenceCase } from './heard.js';

export interface FakeTranscriptionRequest {
  model: string;
  responseFormat: string;
  granularities: string[];
  language: string | null;
  fileName: string;
  fileType: string;
  bytes: number;
  /** What was heard in this request (empty when it was refused). */
  text: string;
  status: number;
}

export interface OpenAiTranscriptionsFake {
  /** OPENAI_BASE_URL. */
  baseUrl: string;
  keys: Set<string>;
  requests: FakeTranscriptionRequest[];
  /** Statuses to answer the next requests with, in order (e.g. [500, 503]); then normal again. */
  failNext: number[];
  close(): Promise<void>;
}

const MODELS = new Set(['whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe', 'gpt-4o-mini-transcribe-2025-12-15']);

const apiError = (message: string, type: string, code: string | null, param: string | null = null) => ({ error: { message, type, param, code } });

export async function startOpenAiTranscriptionsFake(opts: { keys?: string[] } = {}): Promise<OpenAiTranscriptionsFake> {
  const dir = await mkdtemp(path.join(tmpdir(), 'notula-openai-fake-'));
  const fake: OpenAiTranscriptionsFake = {
    baseUrl: '',
    keys: new Set(opts.keys ?? ['sk-test-openai-key']),
    requests: [],
    failNext: [],
    close: async () => undefined,
  };
  const app = new Hono();
  app.post('/v1/audio/transcriptions', async (c) => {
    const auth = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    if (!auth || !fake.keys.has(auth)) {
      const shown = auth ? `${auth.slice(0, 3)}*****${auth.slice(-4)}` : '';
      return c.json(apiError(`Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', 'invalid_api_key'), 401);
    }
    const failure = fake.failNext.shift();
    if (failure) return c.json(apiError('The server had an error while processing your request. Sorry about that!', 'server_error', null), failure as 500);
    const form = await c.req.formData();
    const file = form.get('file');
    const model = String(form.get('model') ?? '');
    const responseFormat = String(form.get('response_format') ?? 'json');
    const granularities = [...form.getAll('timestamp_granularities[]'), ...form.getAll('timestamp_granularities')].map(String);
    const language = form.get('language') === null ? null : String(form.get('language'));
    const record: FakeTranscriptionRequest = {
      model,
      responseFormat,
      granularities,
      language,
      fileName: file instanceof File ? file.name : '',
      fileType: file instanceof File ? file.type : '',
      bytes: file instanceof File ? file.size : 0,
      text: '',
      status: 200,
    };
    fake.requests.push(record);
    const refuse = (body: object) => {
      record.status = 400;
      return c.json(body, 400);
    };
    if (!(file instanceof File)) return refuse(apiError("Missing required parameter: 'file'.", 'invalid_request_error', null, 'file'));
    if (!MODELS.has(model)) return refuse(apiError(`Invalid model ${model}. The model argument should be left blank.`, 'invalid_request_error', 'invalid_value', 'model'));
    if (model !== 'whisper-1' && responseFormat !== 'json' && responseFormat !== 'text') {
      return refuse(apiError(`response_format '${responseFormat}' is not compatible with model '${model}'. Use 'json' or 'text' instead.`, 'invalid_request_error', 'unsupported_value', 'response_format'));
    }
    if (granularities.length && responseFormat !== 'verbose_json') {
      return refuse(apiError('timestamp_granularities requires response_format verbose_json', 'invalid_request_error', 'invalid_value', 'timestamp_granularities'));
    }
    const saved = path.join(dir, `${randomUUID()}-${path.basename(file.name) || 'audio'}`);
    await writeFile(saved, Buffer.from(await file.arrayBuffer()));
    let utterances;
    try {
      utterances = await fakeEngine().transcribeFile(saved);
    } catch {
      return refuse(apiError('Invalid file format. Supported formats: flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm', 'invalid_request_error', null, 'file'));
    } finally {
      await rm(saved, { force: true });
    }
    const segments = utterances.map((u, id) => ({
      id,
      seek: 0,
      start: u.startMs / 1000,
      end: u.endMs / 1000,
      text: ' ' + sentenceCase(u.words.map((w) => w.text)).join(' '),
      tokens: [],
      temperature: 0,
      avg_logprob: -0.2,
      compression_ratio: 1.2,
      no_speech_prob: 0.01,
    }));
    const text = segments.map((s) => s.text.trim()).join(' ');
    record.text = text;
    const duration = (utterances.at(-1)?.endMs ?? 0) / 1000;
    if (responseFormat === 'text') return c.text(text);
    if (responseFormat === 'json') return c.json({ text, usage: { type: 'duration', seconds: Math.ceil(duration) } });
    return c.json({
      task: 'transcribe',
      language: 'english',
      duration,
      text,
      // Whisper's words carry the text's capitals but not its punctuation.
      ...(granularities.includes('word')
        ? { words: utterances.flatMap((u) => sentenceCase(u.words.map((w) => w.text)).map((word, i) => ({ word: word.replace(/[.]$/, ''), start: u.words[i]!.startMs / 1000, end: u.words[i]!.endMs / 1000 }))) }
        : {}),
      ...(granularities.length === 0 || granularities.includes('segment') ? { segments } : {}),
      usage: { type: 'duration', seconds: Math.ceil(duration) },
    });
  });
  app.all('*', (c) => c.json(apiError(`Invalid URL (${c.req.method} ${c.req.path})`, 'invalid_request_error', null), 404));

  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  };
  return fake;
}
