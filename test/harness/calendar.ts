/**
 * Calendar tests: the API (real database, real pg-boss) listening on a real port — providers
 * deliver push notifications to it — with the calendar sync workers running, and the
 * provider fakes the official clients are pointed at. `connect` walks the whole OAuth
 * consent: the connect route's redirect, the fake's consent page, the callback.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import { inject } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import { CalendarWorker } from '../../scheduler/calendar/worker.js';
import { startGoogleFake, type GoogleFake } from '../fakes/google/server.js';
import { startMicrosoftFake, type MicrosoftFake } from '../fakes/microsoft/server.js';
import { createTestApi, type TestApi } from './api.js';
import { readTls } from './tls.js';

export interface CalendarTestbed {
  api: TestApi;
  /** Where the API listens (PUBLIC_URL). */
  url: string;
  google: GoogleFake;
  microsoft: MicrosoftFake | undefined;
  worker: CalendarWorker;
  /** Runs the consent for `email` as `user`; returns the callback's calendar JSON. */
  connect(provider: 'google' | 'microsoft', user: { access: string }, email: string): Promise<any>;
  /** Until every notification was answered and no calendar.sync job is waiting or running. */
  settle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startCalendarTestbed(opts: { env?: Record<string, string>; microsoft?: boolean; worker?: boolean } = {}): Promise<CalendarTestbed> {
  const google = await startGoogleFake();
  // The global setup made this certificate and had the workers trust it (NODE_EXTRA_CA_CERTS).
  const microsoft = opts.microsoft ? await startMicrosoftFake({ tls: await readTls(inject('testTls')) }) : undefined;
  let fetchApp: (req: Request) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: (req) => fetchApp(req), port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = await createTestApi({
    PUBLIC_URL: url,
    CALENDAR_SYNC_DEBOUNCE_S: '1',
    RATE_LIMIT_API_PER_MINUTE: '100000',
    ...google.env,
    ...(microsoft?.env ?? {}),
    ...opts.env,
  });
  fetchApp = api.app.fetch;
  const worker = new CalendarWorker(api.boss, api.services.calendars, { concurrency: 2, log: silentLogger, pollIntervalMs: 500, maintainEveryMs: 0 });
  if (opts.worker !== false) await worker.start();

  const pendingSyncs = async () => {
    const res = await api.services.db.execute(sql`select count(*)::int as n from pgboss.job where name = 'calendar.sync' and state in ('created', 'retry', 'active')`);
    return (res.rows[0] as { n: number }).n;
  };

  return {
    api,
    url,
    google,
    microsoft,
    worker,
    async connect(provider, user, email) {
      const start = await api.call('GET', `/v1/calendars/${provider}/connect`, { token: user.access });
      if (start.status !== 302) throw new Error(`connect: ${start.status} ${start.text}`);
      const consent = new URL(start.headers.get('location')!);
      // The user picks the account on the consent page.
      consent.searchParams.set('login_hint', email);
      const answer = await fetch(consent, { redirect: 'manual' });
      const back = answer.headers.get('location');
      if (answer.status !== 302 || !back) throw new Error(`consent: ${answer.status} ${await answer.text()}`);
      const callback = new URL(back);
      const done = await fetch(callback, { redirect: 'manual' });
      const body = await done.json();
      if (done.status !== 200) throw new Error(`callback: ${done.status} ${JSON.stringify(body)}`);
      return body.calendar;
    },
    async settle(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // A sync that failed is a bug in a test of the happy paths: say why at once.
        const failed = await api.services.db.execute(sql`select output from pgboss.job where name = 'calendar.sync' and state in ('retry', 'failed') limit 1`);
        if (failed.rows.length > 0) throw new Error(`a calendar sync failed: ${JSON.stringify((failed.rows[0] as { output: unknown }).output).slice(0, 2000)}`);
        await google.settled();
        await microsoft?.settled();
        if ((await pendingSyncs()) === 0) {
          // A last notification may have been sent by the sync that just ended.
          await google.settled();
          await microsoft?.settled();
          if ((await pendingSyncs()) === 0) return;
        }
        if (Date.now() > deadline) throw new Error('calendar syncs did not settle');
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await worker.stop();
      await google.close();
      await microsoft?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close();
    },
  };
}
