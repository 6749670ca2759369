#!/usr/bin/env bash
# Fails when lib/db/schema.ts has changes that no committed migration covers.
set -euo pipefail
cd "$(dirname "$0")/.."
npx drizzle-kit check >/dev/null
before=$(ls migrations/*.sql | wc -l)
out=$(npx drizzle-kit generate --name uncommitted_check 2>&1)
after=$(ls migrations/*.sql | wc -l)
if [[ $after -ne $before ]]; then
  git checkout -- migrations 2>/dev/null || true
  git clean -fq -- migrations 2>/dev/null || rm -f migrations/*_uncommitted_check.sql
  echo "lib/db/schema.ts has changes without a migration; run npm run db:generate and commit it:" >&2
  echo "$out" >&2
  exit 1
fi
