/**
 * The setup end-to-end files share: a participant browser, a platform replica (which may run
 * its media pages in that browser) and a Notula sent there, started before the file's tests
 * and stopped after them.
 */
import { afterAll, beforeAll } from 'vitest';
import { launchParticipants, type ParticipantPool } from '../replicas/participant.js';
import { startTestNotula, type TestNotula } from './notula.js';

export interface ReplicaEnv<R> {
  replica: R;
  people: ParticipantPool;
  notula: TestNotula;
}

/** Registers the file's setup and teardown; the returned object is filled in before its first test. */
export function useReplicaEnv<R extends { hostOverride: string; close(): Promise<void> }>(
  startReplica: (people: ParticipantPool) => Promise<R>,
  opts: { concurrency: number },
): ReplicaEnv<R> {
  const env = {} as ReplicaEnv<R>;
  beforeAll(async () => {
    env.people = await launchParticipants();
    env.replica = await startReplica(env.people);
    env.notula = await startTestNotula({ BOT_HOST_OVERRIDES: env.replica.hostOverride, BOT_CONCURRENCY: String(opts.concurrency) });
  }, 120_000);
  afterAll(async () => {
    await env.notula?.stop();
    await env.replica?.close();
    await env.people?.close();
  });
  return env;
}
