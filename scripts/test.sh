#!/usr/bin/env bash
# Runs the whole test suite (type check, migrations check, unit, integration and end-to-end
# tests with real Postgres, Chromium, PulseAudio, ffmpeg and pocketsphinx), installing what
# is missing first. Arguments go to vitest (e.g. a file filter).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
npm run --silent typecheck
# The start command runs the build; keep it compiling.
npm run --silent build
scripts/check-migrations.sh
exec npx vitest run "$@"
