#!/usr/bin/env bash
# Prepares a fresh machine for QuantTrader: nats-server (JetStream), PostgreSQL server binaries and pg_partman,
# Node.js (to build the web app) and Chromium (the browser tests), then restores NuGet packages and builds the web app. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "need root for: $*" >&2; return 1; fi; }

missing=()
command -v nats-server >/dev/null || missing+=(nats-server)
pg_bin=${QUANTTRADER_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/postgres" ]; then
  missing+=(postgresql)
fi
pg_major=$(basename "$(dirname "${pg_bin:-/usr/lib/postgresql/15/bin}")")
[ -f "/usr/share/postgresql/${pg_major}/extension/pg_partman.control" ] || missing+=("postgresql-${pg_major}-partman")
command -v npm >/dev/null || missing+=(nodejs npm)
# The browser tests drive the distribution's Chromium through Playwright; nothing downloads a browser (docs/web.md).
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The AppHost starts its own cluster; a distribution's default cluster is not needed.
echo "setup: nats-server $(nats-server --version 2>/dev/null | awk '{print $2}'), PostgreSQL $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
dotnet restore QuantTrader.sln --verbosity quiet

# The web app (web/, docs/web.md): npm ci from the committed lock, then Vite builds it into the gateway's wwwroot,
# which the gateway serves at /. Skipped when nothing in web/ changed since the last build.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: the web app needs Node.js 20 or later (found $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
stamp=gateway/QuantTrader.Gateway/wwwroot/index.html
if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -f "$stamp" ] || [ -n "$(find web/index.html web/vite.config.ts web/package-lock.json web/src -newer "$stamp" -print -quit)" ]; then
  (cd web && npm run --silent build)
fi
echo "setup: web app built into gateway/QuantTrader.Gateway/wwwroot"
