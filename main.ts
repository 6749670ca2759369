#!/usr/bin/env node
/**
 * `notula [--role api|scheduler|bot]...`: starts the given roles (all three by default)
 * against DATABASE_URL or the embedded Postgres, prints where it listens, and shuts down in
 * order on SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig } from './lib/config.js';
import { ROLES, startNotula, type RoleName } from './start.js';

function parseRoles(argv: string[]): Set<RoleName> {
  const roles = new Set<RoleName>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = arg === '--role' ? argv[++i] : arg.startsWith('--role=') ? arg.slice('--role='.length) : undefined;
    if (value === undefined) {
      if (arg === '--help' || arg === '-h') {
        console.log(`usage: notula [--role ${ROLES.join('|')}]...   (default: every role)`);
        process.exit(0);
      }
      throw new ConfigError(`unknown argument ${arg}`);
    }
    for (const r of value.split(',')) {
      if (!(ROLES as readonly string[]).includes(r)) throw new ConfigError(`--role must be one of ${ROLES.join(', ')}, got "${r}"`);
      roles.add(r as RoleName);
    }
  }
  return roles.size ? roles : new Set(ROLES);
}

async function main() {
  const roles = parseRoles(process.argv.slice(2));
  const config = loadConfig(process.env);
  const notula = await startNotula({ config, roles });
  const { log } = notula;
  if (notula.url) {
    const base = config.PUBLIC_URL;
    console.log(
      [
        '',
        `Notula is running (${[...roles].join(', ')}).`,
        `  API:      ${base}   (listening on ${config.HOST}:${config.PORT})`,
        `  OpenAPI:  ${base}/openapi.json`,
        `  Data:     ${config.DATA_DIR}${config.DATABASE_URL ? '' : ' (embedded Postgres inside)'}`,
        '',
        'Get a first API key:',
        `  curl -s ${base}/v1/auth/register -H 'content-type: application/json' \\`,
        `    -d '{"email":"you@example.com","password":"a long passphrase you keep"}'`,
        `  curl -s ${base}/v1/api-keys -H "authorization: Bearer <access_token from above>" \\`,
        `    -H 'content-type: application/json' -d '{"name":"first key"}'`,
        '',
        'Send a bot:',
        `  curl -s ${base}/v1/bots -H "authorization: Bearer <key>" -H 'content-type: application/json' \\`,
        `    -d '{"meeting_url":"https://meet.google.com/abc-defg-hij"}'`,
        '',
      ].join('\n'),
    );
  } else {
    log.info({ roles: [...roles] }, 'Notula started');
  }
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) {
      log.warn('second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, 'shutting down');
    notula.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
