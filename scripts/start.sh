#!/usr/bin/env bash
# Starts Notula on its embedded defaults (every role in one process, embedded Postgres under
# ./data), installing what is missing first. Arguments go to notula (e.g. --role api).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
npm run --silent build
exec node dist/main.js "$@"
