/**
 * Starts one real Postgres for the whole test run (embedded, or TEST_DATABASE_URL's server),
 * migrates a template database once, and hands its address to the test files, which clone
 * it into a fresh database each (test/harness/db.ts).
 */
import type { TestProject } from 'vitest/node';
import { startTestPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startTestPostgres('test');
  project.provide('pgAdminUrl', server.adminUrl);
  return () => server.stop();
}
