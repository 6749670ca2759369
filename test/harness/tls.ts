/**
 * A throwaway certificate for fakes that must speak HTTPS (the Microsoft Graph client sends
 * credentials only over https). Made with Debian's openssl at the start of a run; processes
 * trust it through NODE_EXTRA_CA_CERTS, which Node reads at startup — so the run's global
 * setup makes it before the test workers are forked, and benchmarks re-exec themselves with it.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface TestTls {
  certPath: string;
  keyPath: string;
}

export interface TlsPair {
  cert: string;
  key: string;
}

/** A self-signed P-256 certificate for 127.0.0.1 and localhost, valid two days. */
export async function makeTestCertificate(dir: string): Promise<TestTls> {
  await mkdir(dir, { recursive: true });
  const certPath = path.join(dir, 'fake-cert.pem');
  const keyPath = path.join(dir, 'fake-key.pem');
  await execFileP('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=Notula test fake',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
  ]);
  return { certPath, keyPath };
}

export async function readTls(t: TestTls): Promise<TlsPair> {
  return { cert: await readFile(t.certPath, 'utf8'), key: await readFile(t.keyPath, 'utf8') };
}
