/**
 * Starts one real Postgres for the whole test run (embedded, or TEST_DATABASE_URL's server),
 * migrates a template database once, and hands its address to the test files, which clone
 * it into a fresh database each (test/harness/db.ts).
 */
import { rm } from 'node:fs/promises';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../lib/db/embedded.js';
import { openDatabase, runMigrations, withDatabase } from '../../lib/db/index.js';
import { silentLogger } from '../../lib/log.js';
import { projectPath } from '../../lib/paths.js';
import { TEMPLATE_DB } from './db.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_DATABASE_URL;
  let embedded: EmbeddedDatabase | undefined;
  const dir = projectPath('.tmp', `test-pg-${process.pid}`);
  if (!adminUrl) {
    await rm(dir, { recursive: true, force: true });
    embedded = await startEmbeddedPostgres({ dataDir: dir, port: 55000 + (process.pid % 5000), log: silentLogger });
    adminUrl = embedded.url;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${TEMPLATE_DB}`);
  await admin.query(`create database ${TEMPLATE_DB}`);
  await admin.end();
  const template = openDatabase(withDatabase(adminUrl, TEMPLATE_DB), { max: 2 });
  await runMigrations(template);
  await template.close();
  project.provide('pgAdminUrl', adminUrl);

  return async () => {
    if (!embedded) return;
    await embedded.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
