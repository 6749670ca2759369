/**
 * `npm run bench:calendar`: calendar auto-join at scale against the Google fake. Notula runs
 * in this process (api + scheduler roles, real Postgres, real pg-boss; no bot workers, so the
 * scheduled bots just wait), and:
 *
 * 1. `--calendars` Google accounts (default 1,000) are connected through the whole OAuth flow
 *    (connect route → consent → callback), spread over `--users` users; each calendar holds
 *    `--events` timed events (default 50) with a Meet link — 80 % its own meetings, 20 % team
 *    meetings shared by every calendar of the same user, so dedup is exercised. Measured:
 *    connect latency, and the wall time until every initial full sync has stored its events and
 *    scheduled its bots.
 * 2. `--samples` push round trips (default 100): an event is moved in the fake, the fake POSTs
 *    the notification to Notula's webhook, and the clock stops when that event's subscription
 *    points at a bot scheduled for the new start. Once one at a time, once as a burst.
 *
 * Prints a table and JSON (also written to bench/results/).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { projectPath } from '../lib/paths.js';
import { startNotula } from '../start.js';
import { startGoogleFake } from '../test/fakes/google/server.js';
import { cloneTestDatabase, startTestPostgres } from '../test/harness/postgres.js';
import { percentile, printTable } from './report.js';

const { values: args } = parseArgs({
  options: {
    calendars: { type: 'string', default: '1000' },
    events: { type: 'string', default: '50' },
    users: { type: 'string', default: '50' },
    samples: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '8' },
  },
});
const CALENDARS = Number(args.calendars);
const EVENTS = Number(args.events);
const USERS = Math.min(Number(args.users), CALENDARS);
const SAMPLES = Number(args.samples);
const CONNECT_CONCURRENCY = Number(args.concurrency);
const SHARED = Math.round(EVENTS * 0.2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3600_000;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function pool<T>(items: T[], n: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

/** A Meet-style code from a number: three letters, four, three. */
function meetCode(n: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (let i = 0, v = n; i < 10; i++, v = Math.floor(v / 26)) s += letters[v % 26];
  return `${s.slice(0, 3)}-${s.slice(3, 7)}-${s.slice(7, 10)}`;
}

async function main() {
  const loadBefore = (loadavg()[0] ?? 0);
  const server = await startTestPostgres('bench-calendar');
  const database = await cloneTestDatabase(server.adminUrl, { max: 4 });
  const google = await startGoogleFake();
  const port = await freePort();
  const dataDir = path.join(tmpdir(), `notula-bench-calendar-${process.pid}`);
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    DATABASE_POOL_MAX: '20',
    LOG_LEVEL: process.env.NOTULA_BENCH_LOG ?? 'warn',
    RATE_LIMIT_API_PER_MINUTE: '1000000',
    RATE_LIMIT_AUTH_PER_MINUTE: '1000000',
    ...google.env,
  });
  const notula = await startNotula({ config, roles: new Set(['api', 'scheduler']), log: createLogger(config.LOG_LEVEL) });
  const base = notula.url!;
  const db = notula.database.db;
  const count = async (q: ReturnType<typeof sql>) => Number(((await db.execute(q)).rows[0] as { n: string | number }).n);

  try {
    // --- the calendars
    const now = Date.now();
    const firstStart = Math.ceil((now + 2 * HOUR) / HOUR) * HOUR;
    const users: { token: string }[] = [];
    for (let u = 0; u < USERS; u++) {
      const res = await fetch(`${base}/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `bench-${u}@example.com`, password: 'Correct-Horse-Battery-9' }) });
      if (res.status !== 201) throw new Error(`register ${res.status}`);
      users.push({ token: ((await res.json()) as { access_token: string }).access_token });
    }
    const accounts = Array.from({ length: CALENDARS }, (_, i) => ({ email: `cal-${i}@bench.test`, user: i % USERS }));
    let code = 0;
    for (const [i, a] of accounts.entries()) {
      google.addAccount(a.email);
      // Shared team meetings: same code and time in every calendar of the user.
      for (let e = 0; e < SHARED; e++) google.insertEvent(a.email, { id: `team${e}`, summary: `Team meeting ${e}`, start: new Date(firstStart + e * 7 * HOUR), meet: meetCode(1_000_000 + a.user * 1000 + e) });
      for (let e = SHARED; e < EVENTS; e++) google.insertEvent(a.email, { id: `own${e}`, summary: `Meeting ${i}/${e}`, start: new Date(firstStart + ((e * 37 + i) % (26 * 24)) * HOUR), meet: meetCode(code++) });
    }
    const expectedBots = USERS * SHARED + CALENDARS * (EVENTS - SHARED);

    // --- connect every calendar through the OAuth flow; initial syncs start as callbacks land
    const connectMs: number[] = [];
    const calendarIds: string[] = new Array(CALENDARS);
    const t0 = performance.now();
    await pool(accounts, CONNECT_CONCURRENCY, async (a, i) => {
      const started = performance.now();
      const start = await fetch(`${base}/v1/calendars/google/connect`, { redirect: 'manual', headers: { authorization: `Bearer ${users[a.user]!.token}` } });
      const consent = new URL(start.headers.get('location')!);
      consent.searchParams.set('login_hint', a.email);
      const back = await fetch(consent, { redirect: 'manual' });
      const done = await fetch(back.headers.get('location')!, { redirect: 'manual' });
      if (done.status !== 200) throw new Error(`callback ${done.status} ${await done.text()}`);
      calendarIds[i] = ((await done.json()) as { calendar: { id: string } }).calendar.id;
      connectMs.push(performance.now() - started);
    });
    const connectedAt = performance.now();
    for (;;) {
      const pending = await count(sql`select count(*) as n from pgboss.job where name = 'calendar.sync' and state in ('created', 'retry', 'active')`);
      const unsynced = await count(sql`select count(*) as n from calendars where last_full_sync_at is null`);
      if (pending === 0 && unsynced === 0) break;
      const failed = await count(sql`select count(*) as n from pgboss.job where name = 'calendar.sync' and state in ('failed', 'retry')`);
      if (failed > 0) throw new Error(`${failed} calendar syncs failed`);
      await sleep(100);
    }
    const syncedAt = performance.now();
    const storedEvents = await count(sql`select count(*) as n from calendar_events`);
    const scheduledBots = await count(sql`select count(*) as n from bots where dedup_key is not null and status = 'scheduled'`);
    const subscriptions = await count(sql`select count(*) as n from bot_subscriptions`);
    const jobRows = (await db.execute(sql`select extract(epoch from (completed_on - started_on)) * 1000 as ms from pgboss.job where name = 'calendar.sync' and state = 'completed'`)).rows as { ms: string }[];
    const syncJobMs = jobRows.map((r) => Number(r.ms));
    if (storedEvents !== CALENDARS * EVENTS) throw new Error(`stored ${storedEvents} events, expected ${CALENDARS * EVENTS}`);
    if (scheduledBots !== expectedBots) throw new Error(`scheduled ${scheduledBots} bots, expected ${expectedBots}`);
    await google.settled();

    // --- push → rescheduled
    const subscriptionOf = async (calendarId: string, externalId: string) =>
      (
        await db.execute(
          sql`select b.join_at from calendar_events e join bot_subscriptions s on s.calendar_event_id = e.id join bots b on b.id = s.bot_id where e.calendar_id = ${calendarId} and e.external_id = ${externalId}`,
        )
      ).rows[0] as { join_at: Date } | undefined;
    const leadMs = config.CALENDAR_JOIN_LEAD_S * 1000;
    const moveOne = async (i: number, shiftH: number): Promise<number> => {
      const a = accounts[i]!;
      const ev = google.event(a.email, `own${SHARED + (i % (EVENTS - SHARED))}`)!;
      const newStart = new Date(Date.parse(ev.start.dateTime) + shiftH * HOUR + 30 * 60_000);
      const startedAt = performance.now();
      google.updateEvent(a.email, ev.id, { start: newStart });
      for (;;) {
        const sub = await subscriptionOf(calendarIds[i]!, ev.id);
        if (sub && new Date(sub.join_at).getTime() === newStart.getTime() - leadMs) return performance.now() - startedAt;
        if (performance.now() - startedAt > 60_000) throw new Error(`calendar ${i} was not rescheduled within 60 s`);
        await sleep(5);
      }
    };
    // Distinct calendars for the two rounds, and a quiet debounce slot first: what is measured is
    // a change that arrives after a calm spell (a change right after a sync waits for the next
    // CALENDAR_SYNC_DEBOUNCE_S slot, by design).
    const stride = Math.max(1, Math.floor(CALENDARS / (2 * SAMPLES)));
    const picks = Array.from({ length: Math.min(SAMPLES, Math.floor(CALENDARS / 2)) }, (_, k) => k * 2 * stride);
    const burstPicks = picks.map((i) => i + stride);
    await sleep(config.CALENDAR_SYNC_DEBOUNCE_S * 1000 + 500);
    const sequential: number[] = [];
    for (const i of picks) sequential.push(await moveOne(i, 1));
    const burstStarted = performance.now();
    const burst = await Promise.all(burstPicks.map((i) => moveOne(i, 1)));
    const burstWall = performance.now() - burstStarted;
    await google.settled();
    const webhookMs = google.deliveries.filter((d) => d.state === 'exists').map((d) => d.ms);

    const r = (n: number) => Math.round(n);
    const result = {
      bench: 'calendar',
      at: new Date().toISOString(),
      node: process.version,
      load_average_1m: { before: loadBefore, after: (loadavg()[0] ?? 0) },
      setup: { calendars: CALENDARS, events_per_calendar: EVENTS, users: USERS, shared_per_user: SHARED, sync_concurrency: config.CALENDAR_SYNC_CONCURRENCY, debounce_s: config.CALENDAR_SYNC_DEBOUNCE_S, connect_concurrency: CONNECT_CONCURRENCY },
      initial: {
        connect_all_s: (connectedAt - t0) / 1000,
        full_sync_all_s: (syncedAt - t0) / 1000,
        after_last_connect_s: (syncedAt - connectedAt) / 1000,
        events_per_s: Math.round(storedEvents / ((syncedAt - t0) / 1000)),
        connect_ms: { p50: r(percentile(connectMs, 50)), p95: r(percentile(connectMs, 95)) },
        sync_job_ms: { p50: r(percentile(syncJobMs, 50)), p95: r(percentile(syncJobMs, 95)), max: r(Math.max(...syncJobMs)) },
        events: storedEvents,
        bots: scheduledBots,
        subscriptions,
      },
      push_to_rescheduled_ms: {
        sequential: { n: sequential.length, p50: r(percentile(sequential, 50)), p95: r(percentile(sequential, 95)), max: r(Math.max(...sequential)) },
        burst: { n: burst.length, p50: r(percentile(burst, 50)), p95: r(percentile(burst, 95)), max: r(Math.max(...burst)), wall_ms: r(burstWall) },
        webhook_answer_ms: { p50: r(percentile(webhookMs, 50)), p95: r(percentile(webhookMs, 95)), max: r(Math.max(...webhookMs)) },
      },
    };
    printTable(`bench:calendar — ${CALENDARS} Google calendars × ${EVENTS} events`, [
      ['connect all (OAuth round trips)', `${result.initial.connect_all_s.toFixed(1)} s (p50 ${result.initial.connect_ms.p50} ms, p95 ${result.initial.connect_ms.p95} ms each)`],
      ['full initial sync, all calendars', `${result.initial.full_sync_all_s.toFixed(1)} s from the first connect (${result.initial.after_last_connect_s.toFixed(1)} s after the last)`],
      ['events stored / bots / subscriptions', `${storedEvents} / ${scheduledBots} / ${subscriptions}`],
      ['throughput', `${result.initial.events_per_s} events/s`],
      ['one calendar sync job p50 / p95', `${result.initial.sync_job_ms.p50} / ${result.initial.sync_job_ms.p95} ms`],
      ['push → rescheduled, one at a time p50 / p95', `${result.push_to_rescheduled_ms.sequential.p50} / ${result.push_to_rescheduled_ms.sequential.p95} ms`],
      [`push → rescheduled, burst of ${burst.length} p50 / p95`, `${result.push_to_rescheduled_ms.burst.p50} / ${result.push_to_rescheduled_ms.burst.p95} ms`],
      ['webhook answered p50 / p95', `${result.push_to_rescheduled_ms.webhook_answer_ms.p50} / ${result.push_to_rescheduled_ms.webhook_answer_ms.p95} ms`],
      ['machine load (1 min) before / after', `${result.load_average_1m.before.toFixed(1)} / ${result.load_average_1m.after.toFixed(1)}`],
    ]);
    console.log(JSON.stringify(result));
    const dir = projectPath('bench', 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `calendar-${result.at.replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2) + '\n');
  } finally {
    await notula.stop();
    await google.close();
    await database.drop();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
