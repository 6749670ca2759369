#!/usr/bin/env bash
# Installs what Notula needs and is missing: Debian packages (runtime, and with --test the
# test tools) and the npm dependencies. Safe to run again; does nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

# Node 20.11+ (Node 22/24 work too). Debian 12's own nodejs is 18, too old.
if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=11)?0:1)'; then
  echo "Notula needs Node.js 20.11 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "Install it from https://nodejs.org or your distribution, then run this again." >&2
  exit 1
fi

lists=(scripts/debian-packages.txt)
(( want_test )) && lists+=(scripts/debian-packages-test.txt)
missing=()
for pkg in $(grep -hv '^\s*#' "${lists[@]}"); do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
  echo "Installing Debian packages: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies; no package may download a browser or binary at install time.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1
stamp=node_modules/.notula-installed
if [[ ! -f $stamp || package-lock.json -nt $stamp || package.json -nt $stamp ]]; then
  echo "Installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
