/** Users, workspaces and memberships: creation and the JSON shapes the auth routes return. */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../lib/db/index.js';
import { memberships, users, workspaces } from '../lib/db/schema.js';
import { newId } from '../lib/ids.js';
import type { Role } from './context.js';

export class EmailTakenError extends Error {}

type UserRow = typeof users.$inferSelect;

export const userJson = (u: UserRow) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  two_factor: u.totpSecret !== null,
  created_at: u.createdAt.toISOString(),
});

export async function createUserWithWorkspace(db: Db, input: { email: string; passwordHash: string; name: string | null }) {
  const userId = newId('usr');
  const workspaceId = newId('ws');
  const workspaceName = `${input.name ?? input.email.split('@')[0]}'s workspace`;
  try {
    return await db.transaction(async (tx) => {
      const [user] = await tx.insert(users).values({ id: userId, email: input.email, passwordHash: input.passwordHash, name: input.name }).returning();
      const [workspace] = await tx.insert(workspaces).values({ id: workspaceId, name: workspaceName }).returning();
      await tx.insert(memberships).values({ workspaceId, userId, role: 'owner' });
      return {
        user: user!,
        workspace: workspace!,
        userJson: userJson(user!),
        workspaceJson: { id: workspace!.id, name: workspace!.name, role: 'owner' as Role },
      };
    });
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === '23505' || (err as { code?: string }).code === '23505') throw new EmailTakenError();
    throw err;
  }
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  const [u] = await db.select().from(users).where(sql`lower(${users.email}) = lower(${email})`);
  return u;
}

/** The workspace a user logs into: the oldest membership (one workspace per user for now). */
export async function primaryWorkspace(db: Db, userId: string) {
  const [m] = await db
    .select({ id: workspaces.id, name: workspaces.name, role: memberships.role })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(eq(memberships.userId, userId))
    .orderBy(memberships.createdAt)
    .limit(1);
  return m;
}

export async function workspaceFor(db: Db, userId: string, workspaceId: string) {
  const [m] = await db
    .select({ id: workspaces.id, name: workspaces.name, role: memberships.role })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.userId, userId), eq(memberships.workspaceId, workspaceId)));
  return m;
}
