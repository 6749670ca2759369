/**
 * Turns new events into webhook deliveries. The event log marks events that a matching
 * endpoint wanted when they were written (`fanout_pending`); this loop takes them in batches
 * (FOR UPDATE SKIP LOCKED, so several scheduler processes share the work), creates one
 * delivery per matching endpoint with its first `webhook.deliver` job, and clears the mark —
 * all in one transaction, so an event is fanned out exactly once. NOTIFY on the events
 * channel wakes it; a slow poll covers lost notifications.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../lib/db/index.js';
import { CHANNELS, type Notifications } from '../lib/db/notifications.js';
import { webhookDeliveries } from '../lib/db/schema.js';
import { inTransaction } from '../lib/db/transaction.js';
import { newId } from '../lib/ids.js';
import type { Logger } from '../lib/log.js';
import type { WebhookQueue } from './webhook-queue.js';

export class WebhookFanout {
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(
    private readonly database: Database,
    private readonly queue: WebhookQueue,
    private readonly notifications: Notifications,
    private readonly log: Logger,
    private readonly opts: { pollIntervalMs: number; batchSize?: number } = { pollIntervalMs: 5000 },
  ) {}

  start(): void {
    this.#unsubscribe = this.notifications.on(CHANNELS.events, () => this.kick());
    this.#timer = setInterval(() => this.kick(), this.opts.pollIntervalMs);
    this.kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    await this.#running;
  }

  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        while (!this.#stopped && (await this.runOnce()) > 0);
      } while (this.#again && !this.#stopped);
    })()
      .catch((err) => this.log.warn({ err }, 'webhook fan-out failed; retrying on the next poll'))
      .finally(() => (this.#running = undefined));
  }

  /** One batch; returns how many events it took. */
  async runOnce(): Promise<number> {
    const batch = this.opts.batchSize ?? 200;
    const { taken, queued } = await inTransaction(this.database, async (tx, exec) => {
      const pending = await tx.execute<{ id: string }>(sql`
        select id from events where fanout_pending order by id limit ${batch} for update skip locked`);
      const ids = pending.rows.map((r) => r.id);
      if (ids.length === 0) return { taken: 0, queued: 0 };
      const targets = await tx.execute<{ event_id: string; endpoint_id: string }>(sql`
        select ev.id as event_id, e.id as endpoint_id
        from events ev
        join webhook_endpoints e on e.workspace_id = ev.workspace_id and e.enabled
          and (cardinality(e.event_types) = 0 or ev.type = any(e.event_types))
        where ev.id in ${ids}
        order by ev.id`);
      const rows = targets.rows.map((t) => ({ id: newId('whd'), endpointId: t.endpoint_id, eventId: t.event_id, status: 'pending' as const, jobId: randomUUID(), nextAttemptAt: new Date(), windowStartedAt: new Date() }));
      const inserted = rows.length
        ? await tx.insert(webhookDeliveries).values(rows).onConflictDoNothing().returning({ id: webhookDeliveries.id, jobId: webhookDeliveries.jobId })
        : [];
      await this.queue.enqueue(exec, inserted.map((d) => ({ jobId: d.jobId!, deliveryId: d.id })));
      await tx.execute(sql`update events set fanout_pending = false where id in ${ids}`);
      return { taken: ids.length, queued: inserted.length };
    });
    if (queued > 0) this.queue.wake();
    return taken;
  }
}
