#!/usr/bin/env python3
"""keysmith benchmarks: each case beside its reference, in the same run.

Whole-process cases alternate keysmith and the reference run by run and
report medians (warm cache: every command runs once before timing).
Throughput cases report keys or rows per second against the target, and
peak memory (max RSS) from wait4.

Usage: bench/run.py [--quick] [--keysmith PATH]
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


GNU_TIME = "/usr/bin/time"


def run(argv, stdin=None, stdout=subprocess.DEVNULL, memory=False):
    """Runs argv; returns (seconds, peak RSS in KiB or None, exit code).

    Peak memory comes from GNU time wrapping the command: a child forked
    from this (large) Python process would report Python's pages too.
    """
    stdin_f = open(stdin, "rb") if isinstance(stdin, str) else subprocess.DEVNULL
    out_f = open(stdout, "wb") if isinstance(stdout, str) else stdout
    rss_file = None
    if memory:
        rss_file = tempfile.NamedTemporaryFile(delete=False)
        argv = [GNU_TIME, "-o", rss_file.name, "-f", "%M"] + argv
    start = time.perf_counter()
    proc = subprocess.run(argv, stdin=stdin_f, stdout=out_f, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    for f in (stdin_f, out_f):
        if f is not subprocess.DEVNULL:
            f.close()
    rss = None
    if rss_file:
        with open(rss_file.name) as f:
            rss = int(f.read().strip().splitlines()[-1])
        os.unlink(rss_file.name)
    return elapsed, rss, proc.returncode


def alternate(cases, runs):
    """Runs each (name, argv, stdin) in turn, `runs` rounds; returns medians."""
    for _, argv, stdin in cases:  # warm-up
        run(argv, stdin)
    times = {name: [] for name, _, _ in cases}
    for _ in range(runs):
        for name, argv, stdin in cases:
            seconds, _, code = run(argv, stdin)
            # A reference that fails does less work: that would flatter no one.
            if code != 0:
                sys.exit(f"{name} failed with exit {code}: {argv}")
            times[name].append(seconds)
    return {name: statistics.median(t) for name, t in times.items()}


def write_jsonl(path, count, prefix="k"):
    with open(path, "w") as f:
        for i in range(count):
            f.write(json.dumps({"name": f"{prefix} {i}", "service": "sms"}) + "\n")


def keys_from(jsonl_out, limit):
    keys = []
    with open(jsonl_out) as f:
        for line in f:
            keys.append(json.loads(line)["key"])
            if len(keys) == limit:
                break
    return keys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keysmith", default=os.path.join(ROOT, "target/release/keysmith"))
    ap.add_argument("--quick", action="store_true", help="fewer runs, for a smoke test")
    args = ap.parse_args()
    ks = args.keysmith
    sqlite3 = shutil.which("sqlite3")
    if not sqlite3:
        sys.exit("sqlite3 is needed for the reference runs (apt-get install sqlite3)")
    runs = 5 if args.quick else 31
    bulk_runs = 1 if args.quick else 3
    big = 100_000 if args.quick else 1_000_000
    rows = []
    tmp = tempfile.mkdtemp(prefix="keysmith-bench-")
    os.environ.pop("KEYSMITH_DB", None)
    try:
        p = lambda name: os.path.join(tmp, name)
        write_jsonl(p("1k.jsonl"), 1_000)
        write_jsonl(p("100k.jsonl"), 100_000)
        write_jsonl(p("big.jsonl"), big)

        # Stores built through keysmith itself.
        run([ks, "--db", p("1k.db"), "create", "--from", p("1k.jsonl")], stdout=p("1k.out"))
        t, rss, _ = run([ks, "--db", p("big.db"), "create", "--from", p("big.jsonl")], stdout=p("big.out"),
                        memory=True)
        size = os.path.getsize(p("big.db"))
        key_1k = keys_from(p("1k.out"), 1)[0]
        big_keys = keys_from(p("big.out"), 100_000)
        os.remove(p("big.out"))
        key_big = big_keys[len(big_keys) // 2]
        with open(p("key_1k"), "w") as f:
            f.write(key_1k + "\n")
        with open(p("key_big"), "w") as f:
            f.write(key_big + "\n")
        with open(p("verify_all.txt"), "w") as f:
            f.write("\n".join(big_keys) + "\n")
        id_big = key_big.split("_")[1]

        # 1. verify, whole process, big store, vs the sqlite3 shell doing the same SELECT and UPDATE.
        # The same statements keysmith runs: the indexed lookup, then the use
        # recorded in the usage table (schema v3), in one durable commit.
        sql_verify = (
            f"SELECT id, hash, name, service, disabled, expires_at FROM keys WHERE id = '{id_big}';"
            "INSERT INTO usage (seq, last_used_at, use_count) "
            f"SELECT seq, unixepoch(), 1 FROM keys WHERE id = '{id_big}' "
            "ON CONFLICT (seq) DO UPDATE SET last_used_at = excluded.last_used_at, use_count = use_count + 1;"
        )
        m = alternate([
            ("keysmith", [ks, "--db", p("big.db"), "verify"], p("key_big")),
            ("sqlite3", [sqlite3, p("big.db"), sql_verify], None),
        ], runs)
        rows.append((f"verify one key, whole process, {big:,} keys", f"{m['keysmith']*1000:.2f} ms",
                     f"sqlite3 {m['sqlite3']*1000:.2f} ms", f"{m['keysmith']/m['sqlite3']:.2f}x", "<= 1.05x"))

        # 2. create, whole process, durable commit, vs the sqlite3 shell inserting one row (synchronous=FULL).
        sql_create = (
            "PRAGMA synchronous=FULL; INSERT INTO keys (id, hash, prefix, name, created_at) "
            "VALUES (substr(lower(hex(randomblob(8))), 1, 12), randomblob(32), 'ks', 'bench', unixepoch());"
        )
        m = alternate([
            ("keysmith", [ks, "--db", p("1k.db"), "create", "--name", "bench"], None),
            ("sqlite3", [sqlite3, p("1k.db"), sql_create], None),
        ], runs)
        rows.append(("create one key, whole process, durable", f"{m['keysmith']*1000:.2f} ms",
                     f"sqlite3 {m['sqlite3']*1000:.2f} ms", f"{m['keysmith']/m['sqlite3']:.2f}x", "<= 1.05x"))

        # 3. verify on 1,000 keys vs the big store.
        m = alternate([
            ("small", [ks, "--db", p("1k.db"), "verify"], p("key_1k")),
            ("big", [ks, "--db", p("big.db"), "verify"], p("key_big")),
        ], runs)
        rows.append((f"verify, 1,000 vs {big:,} keys", f"{m['big']*1000:.2f} ms",
                     f"1,000 keys {m['small']*1000:.2f} ms", f"{m['big']/m['small']:.2f}", "<= 1.3"))

        # 4. create --from 100,000 keys into an empty store.
        results = []
        for i in range(bulk_runs):
            db = p(f"bulk100k-{i}.db")
            t100, rss100, _ = run([ks, "--db", db, "create", "--from", p("100k.jsonl")], memory=True)
            results.append((t100, rss100))
            os.remove(db)
        t100 = statistics.median(r[0] for r in results)
        rows.append(("create --from 100,000 keys, empty store", f"{100_000/t100:,.0f} keys/s",
                     f"{t100:.2f} s, {max(r[1] for r in results)/1024:.0f} MiB", "", ">= 200,000 keys/s"))

        # 5. create --from the big batch (measured while building the store above).
        rows.append((f"create --from {big:,} keys, empty store", f"{big/t:,.0f} keys/s",
                     f"{t:.2f} s", f"{rss/1024:.0f} MiB peak", ">= 150,000 keys/s, < 128 MiB"))

        # 6. verify --stdin-all, 100,000 keys against the big store, uses recorded.
        results = [run([ks, "--db", p("big.db"), "verify", "--stdin-all"], stdin=p("verify_all.txt"),
                       memory=True) for _ in range(bulk_runs)]
        tv = statistics.median(r[0] for r in results)
        rows.append((f"verify --stdin-all 100,000 keys vs {big:,}", f"{100_000/tv:,.0f} keys/s",
                     f"{tv:.2f} s", f"{max(r[1] for r in results)/1024:.0f} MiB peak", ">= 200,000 keys/s"))

        # 7. list --json of the big store.
        results = [run([ks, "--db", p("big.db"), "--json", "list"], memory=True) for _ in range(bulk_runs)]
        tl = statistics.median(r[0] for r in results)
        rows.append((f"list --json, {big:,} keys", f"{big/tl:,.0f} rows/s", f"{tl:.2f} s",
                     f"{max(r[1] for r in results)/1024:.1f} MiB peak", ">= 1,500,000 rows/s, < 16 MiB"))

        # 8. list as a table, 100,000 keys.
        run([ks, "--db", p("t100k.db"), "create", "--from", p("100k.jsonl")])
        results = [run([ks, "--db", p("t100k.db"), "list"], memory=True) for _ in range(bulk_runs)]
        tt = statistics.median(r[0] for r in results)
        rows.append(("list table, 100,000 keys", f"{tt:.2f} s", "",
                     f"{max(r[1] for r in results)/1024:.0f} MiB peak", "< 2 s"))

        # 9. store size.
        rows.append((f"store size, {big:,} keys with their events", f"{size/big:.0f} bytes/key",
                     f"{size/2**20:.0f} MiB", "", "< 250 bytes/key"))

        # 10. start-up.
        m = alternate([
            ("keysmith", [ks, "--version"], None),
            ("true", ["/bin/true"], None),
        ], runs * 3)
        rows.append(("keysmith --version", f"{m['keysmith']*1000:.2f} ms", f"/bin/true {m['true']*1000:.2f} ms",
                     f"{m['keysmith']/m['true']:.2f}x", "<= 1.5x"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"keysmith benchmarks: {platform.node()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"runs per whole-process case: {runs} (alternating, median); bulk runs: {bulk_runs}")
    header = ("case", "keysmith", "reference / detail", "ratio / memory", "target")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(5)]
    for r in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    main()
