/**
 * Starts one real Postgres for the whole test run (embedded, or TEST_DATABASE_URL's server),
 * migrates a template database once, and hands its address to the test files, which clone
 * it into a fresh database each (test/harness/db.ts).
 */
import { rm } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { projectPath } from '../../lib/paths.js';
import { startTestPostgres } from './postgres.js';
import { makeTestCertificate, type TestTls } from './tls.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    /** The certificate HTTPS fakes serve (test/harness/tls.ts); the test workers trust it. */
    testTls: TestTls;
  }
}

export default async function setup(project: TestProject) {
  const server = await startTestPostgres('test');
  project.provide('pgAdminUrl', server.adminUrl);
  // Made before the workers fork: they inherit NODE_EXTRA_CA_CERTS, which Node reads at startup.
  const tlsDir = projectPath('.tmp', `tls-${process.pid}`);
  const tls = await makeTestCertificate(tlsDir);
  process.env.NODE_EXTRA_CA_CERTS = tls.certPath;
  project.provide('testTls', tls);
  return async () => {
    await server.stop();
    await rm(tlsDir, { recursive: true, force: true });
  };
}
