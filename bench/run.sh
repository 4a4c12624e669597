#!/usr/bin/env bash
# Builds keysmith in release mode and runs the benchmarks (bench/run.py).
# Needs sqlite3 (the reference shell): apt-get install sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null || { echo "bench: install sqlite3 first (apt-get install sqlite3)" >&2; exit 2; }
cargo build --release --locked
exec python3 bench/run.py "$@"
