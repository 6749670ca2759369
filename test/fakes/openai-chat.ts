/**
 * A local stand-in for OpenAI's `POST /v1/chat/completions` that speaks the real wire format
 * (request and response bodies, error envelope, `x-request-id`), for the official SDK pointed
 * at it by OPENAI_BASE_URL. It records every request, checks what a real server would refuse
 * (missing key, bad body, a response_format that is not a JSON schema) and, by default,
 * answers with notes derived from what it was sent: a bullet per speaker, the lines that
 * sound like decisions, and the "I will …" lines as action items owned by their speaker —
 * so a test sees the transcript (and its speaker names) really reached the model.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequestRecord {
  headers: IncomingMessage['headers'];
  body: any;
  /** The user message's text. */
  user: string;
  system: string;
}

type ChatReply =
  | { content: string; finish_reason?: 'stop' | 'length'; refusal?: string | null }
  | { status: number; error: { message: string; type: string; code?: string | null } };
/** Answers a request; may take its time (a promise), like a model does. */
export type ChatReplier = (req: ChatRequestRecord) => ChatReply | Promise<ChatReply>;

export interface FakeOpenAiChat {
  /** The base URL for the SDK (…/v1). */
  baseURL: string;
  requests: ChatRequestRecord[];
  /** Replaces the replier (null restores the default). */
  reply(fn: ChatReplier | null): void;
  close(): Promise<void>;
}

const LINE = /^\[(\d+:)?\d{2}:\d{2}\] ([^:]+): (.+)$/;

/** Notes derived from the request: from transcript lines, or merged from notes given as JSON lines. */
export function deriveNotes(user: string) {
  const partNotes = user
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { summary_bullets: string[]; decisions: string[]; action_items: { text: string; owner: string | null; due: string | null }[] });
  if (partNotes.length) {
    // Like a model combining notes: duplicates merged, the summary kept short.
    const unique = <T>(list: T[], key: (x: T) => string) => [...new Map(list.map((x) => [key(x), x])).values()];
    return {
      summary_bullets: unique(partNotes.flatMap((n) => n.summary_bullets), (b) => b).slice(0, 6),
      decisions: unique(partNotes.flatMap((n) => n.decisions), (d) => d),
      action_items: unique(partNotes.flatMap((n) => n.action_items), (a) => `${a.owner}|${a.text}`),
    };
  }
  const lines = user
    .split('\n')
    .map((l) => LINE.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ speaker: m[2]!, text: m[3]! }));
  const firstBySpeaker = new Map<string, string>();
  for (const l of lines) if (!firstBySpeaker.has(l.speaker)) firstBySpeaker.set(l.speaker, l.text);
  return {
    summary_bullets: [...firstBySpeaker].map(([speaker, text]) => `${speaker} said: ${text}`),
    decisions: lines.filter((l) => /\b(agreed|decided|let's go with)\b/i.test(l.text)).map((l) => l.text),
    action_items: lines.filter((l) => /\b(i will|i'll)\b/i.test(l.text)).map((l) => ({ text: l.text, owner: l.speaker, due: null })),
  };
}

const defaultReplier: ChatReplier = (req) => ({ content: JSON.stringify(deriveNotes(req.user)) });

export async function startFakeOpenAiChat(opts: { apiKey?: string } = {}): Promise<FakeOpenAiChat> {
  const requests: ChatRequestRecord[] = [];
  let replier: ChatReplier = defaultReplier;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${randomBytes(8).toString('hex')}`, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const fail = (res: ServerResponse, status: number, message: string, type: string, code: string | null = null, param: string | null = null) =>
    send(res, status, { error: { message, type, param, code } });

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return fail(res, 404, `Invalid URL (${req.method} ${req.url})`, 'invalid_request_error');
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || (opts.apiKey && auth !== `Bearer ${opts.apiKey}`)) {
        return fail(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
      }
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return fail(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error');
      }
      if (typeof body?.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0) {
        return fail(res, 400, "Missing required parameter: 'model' or 'messages'.", 'invalid_request_error', null, 'messages');
      }
      const rf = body.response_format;
      if (rf && (rf.type !== 'json_schema' || typeof rf.json_schema?.name !== 'string' || typeof rf.json_schema?.schema !== 'object')) {
        return fail(res, 400, "Invalid 'response_format'.", 'invalid_request_error', null, 'response_format');
      }
      const text = (role: string) =>
        body.messages
          .filter((m: any) => m.role === role)
          .map((m: any) => (typeof m.content === 'string' ? m.content : (m.content ?? []).map((p: any) => p.text ?? '').join('')))
          .join('\n');
      const record: ChatRequestRecord = { headers: req.headers, body, user: text('user'), system: text('system') };
      requests.push(record);
      const out = await replier(record);
      if ('status' in out) return send(res, out.status, { error: { param: null, code: null, ...out.error } });
      const completion = estimate(record.system + record.user);
      send(res, 200, {
        id: `chatcmpl-${randomBytes(12).toString('hex')}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: out.refusal ? null : out.content, refusal: out.refusal ?? null, annotations: [] },
            logprobs: null,
            finish_reason: out.finish_reason ?? 'stop',
          },
        ],
        usage: { prompt_tokens: completion, completion_tokens: estimate(out.content), total_tokens: completion + estimate(out.content) },
        service_tier: 'default',
        system_fingerprint: 'fp_notula_fake',
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    reply(fn) {
      replier = fn ?? defaultReplier;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const estimate = (s: string) => Math.ceil(s.length / 4);
