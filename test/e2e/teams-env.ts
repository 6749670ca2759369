/**
 * What the Teams end-to-end files share: the Teams replica, a participant browser (which also
 * hosts the replica's conference mixer) and a Notula sent there, started before the file's
 * tests and stopped after them; and the helpers that send a bot and wait for its end.
 */
import { expect } from 'vitest';
import { waitForBot } from '../harness/notula.js';
import { useReplicaEnv, type ReplicaEnv } from '../harness/replica-env.js';
import { startTeamsReplica, type TeamsReplica } from '../replicas/teams/server.js';

export const BOT = 'Notula Notetaker';

export type TeamsBotEnv = ReplicaEnv<TeamsReplica>;

export const useTeamsBotEnv = (opts: { concurrency: number }): TeamsBotEnv => useReplicaEnv((people) => startTeamsReplica({ mediaBrowser: people.browser }), opts);

export async function sendBot(env: TeamsBotEnv, meetingUrl: string, automaticLeave: Record<string, number> = {}): Promise<string> {
  const created = await env.notula.api('POST', '/v1/bots', { meeting_url: meetingUrl, bot_name: BOT, automatic_leave: automaticLeave });
  expect(created.status).toBe(201);
  expect(created.body.platform).toBe('microsoft_teams');
  return created.body.id as string;
}

export const finished = (env: TeamsBotEnv, id: string, timeoutMs = 60_000) =>
  waitForBot(env.notula, id, (b) => b.status.code === 'done' || b.status.code === 'fatal', timeoutMs);

/** The status history as `code` or `code:sub_code`. */
export const history = (bot: any): string[] => bot.status_history.map((h: { code: string; sub_code: string | null }) => (h.sub_code ? `${h.code}:${h.sub_code}` : h.code));
