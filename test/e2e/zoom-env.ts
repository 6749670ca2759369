/**
 * What the Zoom end-to-end files share: the Zoom web-client replica (its conference mixer
 * runs in the participant browser), that browser and a Notula sent there, started before the
 * file's tests and stopped after them; and the helpers that make a meeting and send a bot.
 */
import { useReplicaEnv, type ReplicaEnv } from '../harness/replica-env.js';
import { startZoomReplica, type ZoomMeetingSettings, type ZoomReplica } from '../replicas/zoom/server.js';

export const BOT = 'Notula Notetaker';

export type ZoomBotEnv = ReplicaEnv<ZoomReplica>;

export const useZoomBotEnv = (opts: { concurrency: number }): ZoomBotEnv => useReplicaEnv((people) => startZoomReplica({ mixers: people }), opts);

let seq = 0;
/** A meeting with a fresh id on the replica. */
export function newMeeting(env: ZoomBotEnv, settings: Partial<ZoomMeetingSettings>): string {
  seq += 1;
  const id = String(84100000000 + seq * 104_729);
  env.replica.createMeeting(id, settings);
  return id;
}

export async function sendBot(env: ZoomBotEnv, id: string, automaticLeave: Record<string, number> = {}): Promise<string> {
  const created = await env.notula.api('POST', '/v1/bots', {
    meeting_url: env.replica.meetingUrl(id),
    bot_name: BOT,
    automatic_leave: { everyone_left_timeout_s: 3, ...automaticLeave },
  });
  if (created.status !== 201 || created.body.platform !== 'zoom') throw new Error(`POST /v1/bots: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id as string;
}

export const finished = (b: { status: { code: string } }) => b.status.code === 'done' || b.status.code === 'fatal';
export const codes = (bot: { status_history: { code: string }[] }) => bot.status_history.map((h) => h.code);
