/**
 * A calendar stops feeding bots: its grant died (invalid_grant and the other permanent
 * errors) or its owner removed it. Its tokens are dropped, its push channels forgotten, every
 * future bot that only it wanted is cancelled, and a `calendar.disconnected` event is recorded
 * (audit_events, and the event log webhooks deliver from: `recordCalendarDisconnected`).
 */
import { and, eq } from 'drizzle-orm';
import type { Database, DbOrTx } from '../../lib/db/index.js';
import { auditEvents, calendarChannels, calendars } from '../../lib/db/schema.js';
import { inTransaction } from '../../lib/db/transaction.js';
import { emitWorkspaceEvent } from '../../lib/events.js';
import { newId } from '../../lib/ids.js';
import { cancelBotJobs } from '../bot-scheduling.js';
import { reevaluate, type ReconcileDeps } from './reconcile.js';
import type { CalendarRow } from './tokens.js';

export const CALENDAR_DISCONNECTED = 'calendar.disconnected';

export interface CalendarDisconnectedPayload {
  calendar_id: string;
  provider: string;
  email: string;
  /** invalid_grant, invalid_client, scope_insufficient, removed, … */
  reason: string;
  message: string;
  bots_cancelled: number;
}

/**
 * THE call site of the `calendar.disconnected` event, in the transaction that disconnects:
 * an audit_events row (action `calendar.disconnected`, target the calendar, details = the
 * payload) and the workspace event outbound webhooks deliver (lib/events.ts).
 */
export async function recordCalendarDisconnected(tx: DbOrTx, calendar: CalendarRow, payload: CalendarDisconnectedPayload, actor?: { type: 'user' | 'api_key'; id: string }): Promise<void> {
  await tx.insert(auditEvents).values({
    id: newId('aud'),
    workspaceId: calendar.workspaceId,
    actorType: actor?.type ?? 'system',
    actorId: actor?.id ?? null,
    action: CALENDAR_DISCONNECTED,
    targetType: 'calendar',
    targetId: calendar.id,
    details: payload,
  });
  await emitWorkspaceEvent(tx, calendar.workspaceId, 'calendar.disconnected', { ...payload });
}

/**
 * Marks the calendar disconnected and unsubscribes its events (cancelling bots nobody else
 * wants). Returns false when it was not connected (nothing done: idempotent).
 * `remove` also deletes the calendar row and its events, in the same transaction.
 */
export async function disconnectCalendar(
  database: Database,
  deps: ReconcileDeps,
  calendarId: string,
  why: { reason: string; message: string; remove?: boolean; actor?: { type: 'user' | 'api_key'; id: string } },
): Promise<boolean> {
  const { done, jobs } = await inTransaction(database, async (tx, sql) => {
    const now = deps.now();
    const [calendar] = await tx
      .update(calendars)
      .set({
        status: 'disconnected',
        disconnectedReason: why.reason,
        disconnectedAt: now,
        refreshToken: null,
        accessToken: null,
        accessTokenExpiresAt: null,
        syncCursor: null,
        updatedAt: now,
      })
      .where(and(eq(calendars.id, calendarId), eq(calendars.status, 'connected')))
      .returning();
    if (!calendar) {
      if (!why.remove) return { done: false, jobs: [] };
      // Removing an already disconnected calendar: nothing left to cancel, just delete it.
      const deleted = await tx.delete(calendars).where(eq(calendars.id, calendarId)).returning({ id: calendars.id });
      return { done: deleted.length > 0, jobs: [] };
    }
    const result = await reevaluate(tx, sql, deps, calendar);
    await tx.delete(calendarChannels).where(eq(calendarChannels.calendarId, calendarId));
    await recordCalendarDisconnected(
      tx,
      calendar,
      { calendar_id: calendar.id, provider: calendar.provider, email: calendar.email, reason: why.reason, message: why.message, bots_cancelled: result.botsCancelled },
      why.actor,
    );
    if (why.remove) await tx.delete(calendars).where(eq(calendars.id, calendarId));
    return { done: true, jobs: result.cancelledJobs };
  });
  await cancelBotJobs(deps.dispatcher, jobs);
  return done;
}
