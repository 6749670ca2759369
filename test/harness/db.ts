/** A fresh, migrated database per test file, cloned from the run's template (global-setup.ts). */
import { inject } from 'vitest';
import { cloneTestDatabase, type TestDatabase } from './postgres.js';

export { TEMPLATE_DB, type TestDatabase } from './postgres.js';

export function createTestDatabase(): Promise<TestDatabase> {
  return cloneTestDatabase(inject('pgAdminUrl'));
}
