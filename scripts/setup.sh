#!/usr/bin/env bash
# Prepares a fresh machine for QuantTrader: nats-server (JetStream), PostgreSQL server binaries and pg_partman,
# then restores NuGet packages. Safe to run again: it only installs what is missing.
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

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The AppHost starts its own cluster; a distribution's default cluster is not needed.
echo "setup: nats-server $(nats-server --version 2>/dev/null | awk '{print $2}'), PostgreSQL $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
dotnet restore QuantTrader.sln --verbosity quiet
