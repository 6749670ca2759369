/**
 * The `meeting.post-process` job: analytics, then the summary, for one bot. Idempotent under
 * retries: both are upserts keyed by the bot. The summary is written only over the version it
 * started from, so a user's edit made meanwhile wins; after `done`, a summary that is already
 * there (an earlier attempt's, or one a user wrote) is kept — regenerate replaces it.
 */
import { and, eq, sql } from 'drizzle-orm';
import type PgBoss from 'pg-boss';
import type { Config } from '../../lib/config.js';
import type { Db } from '../../lib/db/index.js';
import { bots, meetingAnalytics, meetingSummaries } from '../../lib/db/schema.js';
import type { Logger } from '../../lib/log.js';
import type { SecretBox } from '../../lib/secrets.js';
import { parsePayload, QUEUES } from '../queues.js';
import { computeAnalytics } from './analytics.js';
import { loadMeetingData, summaryInputOf } from './meeting-data.js';
import type { PostMeetingReason } from './post-meeting-queue.js';
import { generateSummary } from './summarise.js';

export interface PostMeetingDeps {
  db: Db;
  config: Config;
  secrets: SecretBox;
  log: Logger;
}

export type PostMeetingOutcome =
  | { skipped: 'bot not found' | 'data deleted' }
  | { skipped?: undefined; summary: 'written' | 'kept' | 'superseded by an edit'; generator: 'openai' | 'offline' | null };

export async function runPostMeeting(deps: PostMeetingDeps, job: { botId: string; reason: PostMeetingReason }): Promise<PostMeetingOutcome> {
  const { db } = deps;
  const log = deps.log.child({ botId: job.botId, reason: job.reason });
  const [bot] = await db.select().from(bots).where(eq(bots.id, job.botId));
  if (!bot) return { skipped: 'bot not found' };
  if (bot.dataDeletedAt) return { skipped: 'data deleted' };

  const data = await loadMeetingData(db, bot);
  const analytics = computeAnalytics({ segments: data.segments, turns: data.turns, durationMs: data.durationMs });
  await db
    .insert(meetingAnalytics)
    .values({ botId: bot.id, analytics, computedAt: new Date() })
    .onConflictDoUpdate({ target: meetingAnalytics.botId, set: { analytics, computedAt: new Date() } });

  await db.insert(meetingSummaries).values({ botId: bot.id, status: 'pending' }).onConflictDoNothing();
  const [current] = await db.select().from(meetingSummaries).where(eq(meetingSummaries.botId, bot.id));
  if (job.reason === 'done' && current!.status === 'ready') return { summary: 'kept', generator: null };

  const generated = await generateSummary({ config: deps.config, db, secrets: deps.secrets, log }, bot.workspaceId, summaryInputOf(data));
  const written = await db
    .update(meetingSummaries)
    .set({
      status: 'ready',
      content: generated.content,
      generator: generated.generator,
      model: generated.model,
      fallbackReason: generated.fallbackReason,
      generatedAt: new Date(),
      editedByType: null,
      editedById: null,
      editedAt: null,
      version: sql`${meetingSummaries.version} + 1`,
      updatedAt: new Date(),
    })
    .where(and(eq(meetingSummaries.botId, bot.id), eq(meetingSummaries.version, current!.version)))
    .returning({ version: meetingSummaries.version });
  if (written.length === 0) {
    log.info('summary edited while it was being generated; the edit stays');
    return { summary: 'superseded by an edit', generator: generated.generator };
  }
  log.info({ generator: generated.generator, fallback: generated.fallbackReason }, 'meeting summary written');
  return { summary: 'written', generator: generated.generator };
}

/** Runs the queue's jobs in this process (the scheduler role); resolves to a function that stops it. */
export async function startPostMeetingWorker(boss: PgBoss, deps: PostMeetingDeps): Promise<() => Promise<void>> {
  await boss.work<unknown>(QUEUES.postMeeting.name, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
    if (!job) return;
    const payload = parsePayload(QUEUES.postMeeting, job.data);
    return runPostMeeting(deps, payload);
  });
  return () => boss.offWork(QUEUES.postMeeting.name);
}
