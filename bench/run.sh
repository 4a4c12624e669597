#!/usr/bin/env bash
# Builds keysmith in release mode and runs the benchmarks (bench/run.py).
# Needs sqlite3 (the reference shell): apt-get install sqlite3.
# With --postgres URL (or KEYSMITH_BENCH_POSTGRES=URL), an admin URL of a
# server where ks_bench_* databases may be created and dropped, the
# PostgreSQL cases run too; they need psql: apt-get install postgresql-client.
# The serve cases need wrk (the load) and nginx (the reference):
# apt-get install wrk nginx. bench/run.sh --quick --serve-only is a smoke
# test of them in seconds; --owners-only runs just the cases of owners,
# metadata, IP rules, shared uses and refills (bench/owners.py).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null || { echo "bench: install sqlite3 first (apt-get install sqlite3)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench: install wrk first (apt-get install wrk)" >&2; exit 2; }
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] ||
    { echo "bench: install nginx first (apt-get install nginx)" >&2; exit 2; }
if [[ -n "${KEYSMITH_BENCH_POSTGRES:-}" || " $* " == *" --postgres"* ]]; then
    command -v psql >/dev/null || { echo "bench: install psql first (apt-get install postgresql-client)" >&2; exit 2; }
fi
cargo build --release --locked
exec python3 bench/run.py "$@"
