#!/usr/bin/env python3
"""keysmith benchmarks: each case beside its reference, in the same run.

Whole-process cases alternate keysmith and the reference run by run and
report medians (warm cache: every command runs once before timing).
Throughput cases report keys or rows per second against the target, and
peak memory (max RSS) from wait4.

With --postgres URL (or KEYSMITH_BENCH_POSTGRES), an admin URL of a
PostgreSQL server where databases may be created and dropped, the same kinds
of cases also run against PostgreSQL over that connection (loopback TCP),
each in fresh databases named ks_bench_*, dropped at the end; the reference
for whole-process cases is `psql` sending the same statements.

The serve cases put `keysmith serve` under wrk beside nginx (both needed:
apt-get install wrk nginx); --serve-only runs just them (and builds the
store they need).

The cases of owners, metadata, IP rules, shared uses and refills are in
bench/owners.py, those of rate limits across a fleet in bench/fleet.py;
--owners-only and --fleet-only run just them.

Usage: bench/run.py [--quick] [--serve-only] [--owners-only] [--fleet-only] [--keysmith PATH] [--postgres URL]
                    [--baseline PATH]
"""

import argparse
import glob
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

import fleet
import load
import owners
from load import pinned, rss_kib, start_serve, stop, wrk, wrk_start, wrk_wait

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


GNU_TIME = "/usr/bin/time"


def run(argv, stdin=None, stdout=None, memory=False):
    """Runs argv; returns (seconds, peak RSS in KiB or None, exit code).

    Output goes to `stdout`, a file, or else to a scratch file: not to
    /dev/null, where keysmith refuses to print a new key that nobody would
    receive. Peak memory comes from GNU time wrapping the command: a child
    forked from this (large) Python process would report Python's pages too.
    """
    stdin_f = open(stdin, "rb") if isinstance(stdin, str) else subprocess.DEVNULL
    out_f = open(stdout or SINK, "wb")
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
    if not stdout:
        os.remove(SINK)
    rss = None
    if rss_file:
        with open(rss_file.name) as f:
            rss = int(f.read().strip().splitlines()[-1])
        os.unlink(rss_file.name)
    return elapsed, rss, proc.returncode


def run_tty(argv, cols=80, rows=24):
    """Runs argv on a pseudo-terminal of `cols` x `rows`, reading all it prints;
    returns (seconds, peak RSS in KiB, exit code). No pager (KEYSMITH_PAGER=cat):
    what is measured is keysmith writing its table to a terminal."""
    import fcntl, pty, struct, termios
    rss_file = tempfile.NamedTemporaryFile(delete=False)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = dict(os.environ, KEYSMITH_PAGER="cat", TERM="xterm")
    start = time.perf_counter()
    proc = subprocess.Popen([GNU_TIME, "-o", rss_file.name, "-f", "%M"] + argv, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    while True:
        try:
            if not os.read(master, 1 << 16):
                break
        except OSError:  # EIO: the last writer closed the terminal
            break
    code = proc.wait()
    elapsed = time.perf_counter() - start
    os.close(master)
    with open(rss_file.name) as f:
        rss = int(f.read().strip().splitlines()[-1])
    os.unlink(rss_file.name)
    return elapsed, rss, code


SINK = os.path.join(tempfile.gettempdir(), f"keysmith-bench-out-{os.getpid()}")


def alternate(cases, runs):
    """Runs each (name, argv, stdin) in turn, `runs` rounds; returns medians.

    argv may be a function returning the argv for each run.
    """
    argv_of = lambda argv: argv() if callable(argv) else argv
    # The stores were just written: without this, the kernel's write-back of
    # those hundreds of megabytes lands in the middle of the timed commits.
    os.sync()
    for _, argv, stdin in cases:  # warm-up
        run(argv_of(argv), stdin)
    times = {name: [] for name, _, _ in cases}
    for _ in range(runs):
        for name, argv, stdin in cases:
            argv = argv_of(argv)
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


# The statements keysmith sends (src/store/postgres/mod.rs): the key's row by
# id joined to its use (SELECT_KEY_BY_ID), the use recorded (RECORD_USE),
# and for `create` the key's row and its event (INSERT_KEY, INSERT_EVENT).
PG_KEY_COLUMNS = (
    "SELECT k.id, k.hash, k.prefix, k.name, k.description, k.service, k.disabled, "
    "k.created_at, k.expires_at, u.last_used_at, coalesce(u.use_count, 0), "
    "k.rotated_from, k.replaced_by, k.seq "
    "FROM keys AS k LEFT JOIN usage AS u ON u.seq = k.seq "
)
PG_NOW = "extract(epoch FROM now())::bigint"


def real_psql():
    """psql itself: Debian's /usr/bin/psql is pg_wrapper, a Perl script that
    adds ~40 ms of start-up to every run and would flatter keysmith."""
    found = shutil.which("psql")
    if found and os.path.realpath(found).endswith("pg_wrapper"):
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"),
                          key=lambda b: int(b.split("/")[-3]) if b.split("/")[-3].isdigit() else 0)
        if versions:
            return versions[-1]
    return found


def pg_url(admin, dbname):
    """The admin URL with its database replaced by dbname."""
    u = urllib.parse.urlsplit(admin)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, u.fragment))


def psql_argv(psql, url, *statements):
    """psql sending each statement as its own round trip (its own -c), as keysmith does."""
    argv = [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url]
    for sql in statements:
        argv += ["-c", sql]
    return argv


def psql_out(psql, url, *statements):
    out = subprocess.run(psql_argv(psql, url, *statements), check=True, capture_output=True, text=True)
    return out.stdout.strip()


def pg_fresh(psql, admin, dbname):
    psql_out(psql, admin, f"DROP DATABASE IF EXISTS {dbname}", f"CREATE DATABASE {dbname}")
    return pg_url(admin, dbname)


def postgres_cases(ks, psql, admin, p, runs, bulk_runs, big, rows, quick):
    """The PostgreSQL rows: same shapes as the SQLite ones, over the admin URL's host."""
    shown = psql_out(psql, admin, "SHOW server_version", "SHOW fsync", "SHOW synchronous_commit",
                     "SHOW shared_buffers").splitlines()
    settings = (f"PostgreSQL {shown[0].split()[0]}, fsync {shown[1]}, synchronous_commit {shown[2]}, "
                f"shared_buffers {shown[3]}")
    url_big = pg_fresh(psql, admin, "ks_bench_1m")
    url_1k = pg_fresh(psql, admin, "ks_bench_1k")

    # Stores built through keysmith itself, then vacuumed and analysed so that
    # autovacuum does not wake up in the middle of the timed runs.
    run([ks, "--db", url_1k, "create", "--from", p("1k.jsonl")], stdout=p("pg1k.out"))
    t_big, rss_big, code = run([ks, "--db", url_big, "create", "--from", p("big.jsonl")],
                               stdout=p("pgbig.out"), memory=True)
    if code != 0:
        sys.exit(f"keysmith create --from into PostgreSQL failed with exit {code}")
    psql_out(psql, url_big, "VACUUM (ANALYZE)")
    psql_out(psql, url_1k, "VACUUM (ANALYZE)")
    size = int(psql_out(psql, url_big, "SELECT pg_database_size(current_database())"))
    big_keys = keys_from(p("pgbig.out"), 100_000)
    os.remove(p("pgbig.out"))
    key_big = big_keys[len(big_keys) // 2]
    with open(p("pgkey_big"), "w") as f:
        f.write(key_big + "\n")
    with open(p("pgverify_all.txt"), "w") as f:
        f.write("\n".join(big_keys) + "\n")
    id_big = key_big.split("_")[1]
    seq_big = int(psql_out(psql, url_big, f"SELECT seq FROM keys WHERE id = '{id_big}'"))

    # 1. verify, whole process, big store, vs psql sending the same two
    # statements (keysmith learns seq from the SELECT; psql gets it written in).
    # Each is its own round trip and, like keysmith's, its own commit.
    sql_select = PG_KEY_COLUMNS + f"WHERE k.id = '{id_big}'"
    sql_use = (
        f"INSERT INTO usage (seq, last_used_at, use_count) VALUES ({seq_big}, {PG_NOW}, 1) "
        "ON CONFLICT (seq) DO UPDATE SET "
        "last_used_at = greatest(usage.last_used_at, excluded.last_used_at), "
        "use_count = usage.use_count + 1"
    )
    m = alternate([
        ("keysmith", [ks, "--db", url_big, "verify"], p("pgkey_big")),
        ("psql", psql_argv(psql, url_big, sql_select, sql_use), None),
    ], runs)
    rows.append((f"[postgres] verify one key, whole process, {big:,} keys", f"{m['keysmith']*1000:.2f} ms",
                 f"psql {m['psql']*1000:.2f} ms", f"{m['keysmith']/m['psql']:.2f}x", "- (SQLite: <= 1.10x)"))

    # 2. create, whole process, durable commit, vs psql inserting the key's row
    # and its event in one transaction (BEGIN, two INSERTs, COMMIT: one round
    # trip each, as keysmith sends them).
    def psql_create():
        key_id = secrets.token_hex(6)
        return psql_argv(
            psql, url_1k, "BEGIN",
            "INSERT INTO keys (id, hash, prefix, name, description, service, disabled, created_at, "
            "expires_at, rotated_from, replaced_by) VALUES "
            f"('{key_id}', '\\x{secrets.token_hex(32)}', 'ks', 'bench', NULL, NULL, false, {PG_NOW}, "
            "NULL, NULL, NULL) ON CONFLICT (id) DO NOTHING",
            "INSERT INTO events (at, action, key_id, actor, detail, key_seq) VALUES "
            f"({PG_NOW}, 'create', '{key_id}', 'bench', NULL, (SELECT seq FROM keys WHERE id = '{key_id}'))",
            "COMMIT")
    m = alternate([
        ("keysmith", [ks, "--db", url_1k, "create", "--name", "bench"], None),
        ("psql", psql_create, None),
    ], runs)
    rows.append(("[postgres] create one key, whole process, durable", f"{m['keysmith']*1000:.2f} ms",
                 f"psql {m['psql']*1000:.2f} ms", f"{m['keysmith']/m['psql']:.2f}x", "- (SQLite: <= 1.10x)"))

    # 3. create --from 100,000 keys into an empty database.
    results = []
    for i in range(bulk_runs):
        url = pg_fresh(psql, admin, "ks_bench_bulk")
        t100, rss100, code = run([ks, "--db", url, "create", "--from", p("100k.jsonl")], memory=True)
        if code != 0:
            sys.exit(f"keysmith create --from into PostgreSQL failed with exit {code}")
        results.append((t100, rss100))
    psql_out(psql, admin, "DROP DATABASE IF EXISTS ks_bench_bulk")
    t100 = statistics.median(r[0] for r in results)
    rows.append(("[postgres] create --from 100,000 keys, empty database", f"{100_000/t100:,.0f} keys/s",
                 f"{t100:.2f} s, {max(r[1] for r in results)/1024:.0f} MiB", "", "- (SQLite: >= 200,000 keys/s)"))

    # 4. create --from the big batch (measured while building the store above).
    rows.append((f"[postgres] create --from {big:,} keys, empty database", f"{big/t_big:,.0f} keys/s",
                 f"{t_big:.2f} s", f"{rss_big/1024:.0f} MiB peak", "- (SQLite: >= 150,000 keys/s, < 128 MiB)"))

    # 5. verify --stdin-all, 100,000 keys against the big store, uses recorded.
    results = [run([ks, "--db", url_big, "verify", "--stdin-all"], stdin=p("pgverify_all.txt"),
                   memory=True) for _ in range(bulk_runs)]
    if any(r[2] != 0 for r in results):
        sys.exit("keysmith verify --stdin-all against PostgreSQL failed")
    tv = statistics.median(r[0] for r in results)
    rows.append((f"[postgres] verify --stdin-all 100,000 keys vs {big:,}", f"{100_000/tv:,.0f} keys/s",
                 f"{tv:.2f} s", f"{max(r[1] for r in results)/1024:.0f} MiB peak", "- (SQLite: >= 200,000 keys/s)"))

    # 6. database size (tables and indexes, with the catalog's ~7 MiB).
    rows.append((f"[postgres] database size, {big:,} keys with their events", f"{size/big:.0f} bytes/key",
                 f"{size/2**20:.0f} MiB", "", "- (SQLite: < 250 bytes/key)"))

    # 7. serve on the big store.
    serve_cases(ks, p, url_big, big_keys, big, quick, rows, label="postgres")
    return settings


# `keysmith serve` under wrk, beside nginx answering `return 200` from memory
# with as many worker processes as serve has threads (its runtime's workers
# and its store threads are one per core each): the limit of an HTTP server
# on this machine. The servers run on one half of the CPUs and wrk on the
# other (taskset), so that the load generator never takes a server's core.
# Loopback keep-alive connections, the same wrk settings for both,
# alternating reference and case.

WRK_LUA = r"""
-- keysmith bench: one request shape, cycling through the keys of a file.
-- wrk ... -s this.lua URL -- MODE KEYFILE   (MODE: auth, verify, malformed)
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  mode = args[1]
  keys = {}
  if args[2] then
    for line in io.lines(args[2]) do
      if #line > 0 then keys[#keys + 1] = line end
    end
  end
  -- Each thread starts elsewhere in the list.
  i = ((tid or 0) * 997) % math.max(#keys, 1)
end

function request()
  if mode == "malformed" then
    return wrk.format("GET", "/v1/auth", {["X-API-Key"] = "ks_not-a-key"})
  end
  i = i % #keys + 1
  if mode == "verify" then
    return wrk.format("POST", "/v1/verify", {["Content-Type"] = "application/json"},
                      '{"key":"' .. keys[i] .. '"}')
  end
  return wrk.format("GET", "/v1/auth", {["X-API-Key"] = keys[i]})
end
"""


def find_nginx():
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, log=None):
    import socket
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited ({proc.returncode})" + (f": {open(log).read()}" if log else ""))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    sys.exit(f"{what} never answered on port {port}")


def start_nginx(nginx, d, workers, cpus=None):
    """nginx answering `return 200` from memory, every file it writes in d."""
    os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
    port = free_port()
    conf = f"""
worker_processes {workers};
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port} reuseport;
        location / {{
            default_type text/plain;
            return 200 "ok\\n";
        }}
    }}
}}
"""
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf)
    proc = subprocess.Popen(pinned(cpus, [nginx, "-p", d, "-c", f"{d}/nginx.conf", "-e", f"{d}/error.log"]),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc, "nginx", f"{d}/error.log")
    return proc, f"http://127.0.0.1:{port}"


def start_to_ready(ks, db, runs):
    """Median seconds from spawning `keysmith serve` to its ready line."""
    import signal
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen([ks, "--db", db, "serve", "--listen", "127.0.0.1:0"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        for line in proc.stderr:
            if line.startswith("keysmith serve: listening on"):
                times.append(time.perf_counter() - start)
                break
        else:
            sys.exit(f"keysmith serve never got ready (exit {proc.wait()})")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    return statistics.median(times)


def freshness_under_load(ks, db, url, script, keys_file, key, threads, seconds):
    """Requests for `key` on one keep-alive connection while wrk loads serve
    with other keys; `keysmith disable` of `key` halfway. Returns (VALID
    answers to requests sent after the disable exited, requests sent after
    it, VALID answers before it)."""
    import http.client
    import threading
    host = urllib.parse.urlsplit(url).netloc
    load = wrk_start(url, script, "auth", keys_file, seconds, threads, 64)
    answers = []  # (sent at, status)
    stop = threading.Event()

    def hammer():
        conn = http.client.HTTPConnection(host, timeout=10)
        while not stop.is_set():
            sent = time.monotonic()
            conn.request("GET", "/v1/auth", headers={"X-API-Key": key})
            r = conn.getresponse()
            r.read()
            answers.append((sent, r.status))
        conn.close()

    t = threading.Thread(target=hammer)
    t.start()
    time.sleep(seconds / 2)
    key_id = key.split("_")[1]
    code = subprocess.run([ks, "--db", db, "disable", key_id], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    exited = time.monotonic()
    if code != 0:
        sys.exit(f"keysmith disable exited {code}")
    time.sleep(seconds / 2 - 0.5)
    stop.set()
    t.join()
    wrk_wait(load)
    after = [status for sent, status in answers if sent > exited]
    before = [status for sent, status in answers if sent <= exited]
    return sum(1 for s in after if s == 200), len(after), sum(1 for s in before if s == 200)


def rate_limit_under_load(ks, db, p, url, script, threads, connections, seconds):
    """wrk pressing on one key with a rate limit of 200/2s: (VALID answers,
    what a sliding window allows over the run's length, answers). Pressed
    harder than the limit, a sliding window of W admits N at once and N
    again each W later: in T seconds N x (floor(T / W) + 1). `seconds` is
    odd, so the run ends half a window from the next N, whatever the few
    milliseconds wrk takes to start."""
    limit, window = 200, 2
    out = p("rate.out")
    code = run([ks, "--db", db, "create", "--name", "rate limited", "--rate", f"{limit}/{window}s"],
               stdout=out)[2]
    if code != 0:
        sys.exit(f"keysmith create --rate exited {code}")
    with open(out) as f:
        key = f.read().strip()
    keys_file = p("rate_key.txt")
    with open(keys_file, "w") as f:
        f.write(key + "\n")
    _, _, refused, errors, total, took = wrk(url, script, "auth", keys_file, seconds, threads, connections)
    if errors:
        sys.exit(f"rate limit: wrk saw {errors} socket errors")
    bound = limit * (int(took // window) + 1)
    return total - refused, bound, total


def baseline_cases(ks, base, p, jsonl, big, quick, bulk_runs, rows):
    """The same cases on `base` (an older keysmith) and on this one, alternating, on
    two copies of one store of keys without limits: what limits cost keys that have
    none. The copy this build opens is migrated forward first (and timed)."""
    base_db, new_db = p("base.db"), p("new.db")
    out = p("base.out")
    if run([base, "--db", base_db, "create", "--from", jsonl], stdout=out)[2] != 0:
        sys.exit("the baseline could not build its store")
    keys = keys_from(out, 100_000)
    os.remove(out)
    shutil.copyfile(base_db, new_db)
    with open(p("ab_key"), "w") as f:
        f.write(keys[len(keys) // 2] + "\n")
    migrated = run([ks, "--db", new_db, "verify"], p("ab_key"))
    if migrated[2] != 0:
        sys.exit("this build could not open the baseline's store")
    rows.append((f"migrate a {big:,}-key store forward (v4 to v5), first open", f"{migrated[0]*1000:.0f} ms",
                 "", "", ""))
    runs = 5 if quick else 31
    m = alternate([
        ("base", [base, "--db", base_db, "verify"], p("ab_key")),
        ("new", [ks, "--db", new_db, "verify"], p("ab_key")),
    ], runs)
    rows.append((f"A/B verify one key, whole process, {big:,} keys", f"{m['new']*1000:.2f} ms",
                 f"baseline {m['base']*1000:.2f} ms", f"{m['new']/m['base']:.2f}x", "within noise"))
    # The tables (issue 25 moved them onto comfy-table): 100,000 keys, piped
    # and on an 80-column terminal, and their 100,000 "created" events.
    base_t100, new_t100 = p("base_t100k.db"), p("new_t100k.db")
    run([base, "--db", base_t100, "create", "--from", p("100k.jsonl")])
    shutil.copyfile(base_t100, new_t100)
    run([ks, "--db", new_t100, "list", "--json"])  # the migration, outside the timed runs
    for what, argv in (("list table, 100,000 keys, piped", ["list"]),
                       ("list table, 100,000 keys, 80-column terminal", ["list"]),
                       ("history, 100,000 events, piped", ["history"]),
                       ("history, 100,000 events, 80-column terminal", ["history"])):
        on_tty = "terminal" in what
        measured = {"base": [], "new": []}
        for _ in range(bulk_runs):
            for name, bin_, db in (("base", base, base_t100), ("new", ks, new_t100)):
                r = run_tty([bin_, "--db", db] + argv) if on_tty else run([bin_, "--db", db] + argv, memory=True)
                if r[2] != 0:
                    sys.exit(f"A/B {what}: {name} exited {r[2]}")
                measured[name].append(r)
        t = {n: statistics.median(r[0] for r in m) for n, m in measured.items()}
        mem = {n: max(r[1] for r in m) / 1024 for n, m in measured.items()}
        rows.append((f"A/B {what}", f"{t['new']:.2f} s, {mem['new']:.0f} MiB",
                     f"baseline {t['base']:.2f} s, {mem['base']:.0f} MiB", f"{t['new']/t['base']:.2f}x",
                     "< 2 s, < 64 MiB"))

    with open(p("ab_all.txt"), "w") as f:
        f.write("\n".join(keys) + "\n")
    times = {"base": [], "new": []}
    for _ in range(1 if quick else 3):
        for name, bin_, db in (("base", base, base_db), ("new", ks, new_db)):
            times[name].append(run([bin_, "--db", db, "verify", "--stdin-all"], stdin=p("ab_all.txt"))[0])
    tb, tn = statistics.median(times["base"]), statistics.median(times["new"])
    rows.append((f"A/B verify --stdin-all 100,000 keys vs {big:,}", f"{100_000/tn:,.0f} keys/s",
                 f"baseline {100_000/tb:,.0f} keys/s", f"{tb/tn:.2f}x", "within noise"))

    server_cpus, workers, threads, script, keys_file = load.load_setup(p, keys, "ab_keys.txt", WRK_LUA)
    seconds, rounds = (2, 1) if quick else (15, 3)
    import signal
    results = {"base": [], "new": []}
    # Both stores were just written: their write-back must not land in one
    # side's runs.
    os.sync()
    for _ in range(rounds):
        for name, bin_, db in (("base", base, base_db), ("new", ks, new_db)):
            srv, url = start_serve(bin_, db, server_cpus)
            try:
                wrk(url, script, "auth", keys_file, 3, threads, 64)  # warm-up: the cache, the pages
                r = wrk(url, script, "auth", keys_file, seconds, threads, 64)
                if r[2] or r[3]:
                    sys.exit(f"A/B serve {name}: {r[2]} refused, {r[3]} socket errors")
                results[name].append(r)
            finally:
                stop(srv, signal.SIGTERM)
    med = lambda name, i: statistics.median(r[i] for r in results[name])
    rows.append((f"A/B serve /v1/auth, valid keys rotating over 10,000, {big:,} keys",
                 f"{med('new', 0):,.0f} req/s, p99 {med('new', 1)*1000:.2f} ms",
                 f"baseline {med('base', 0):,.0f} req/s, p99 {med('base', 1)*1000:.2f} ms",
                 f"{med('new', 0)/med('base', 0):.2f}x", "within noise"))


def serve_cases(ks, p, db, keys, big, quick, rows, label="", cli_db=None):
    """The serve rows on the store `db` (a path or a URL) whose keys are
    `keys`; returns a line saying how they were measured."""
    nginx = find_nginx()
    if not nginx:
        sys.exit("nginx is needed for the serve reference (apt-get install nginx)")
    if not shutil.which("wrk"):
        sys.exit("wrk is needed for the serve cases (apt-get install wrk)")
    server_cpus, workers, threads, script, keys_file = load.load_setup(p, keys, "serve_keys.txt", WRK_LUA)
    seconds = 2 if quick else 15
    rounds = 1 if quick else 3
    connections = 64
    ndir = p("nginx")
    os.makedirs(ndir, exist_ok=True)
    ngx, ngx_url = start_nginx(nginx, ndir, workers, server_cpus)
    srv, srv_url = start_serve(ks, db, server_cpus)
    name_of = lambda text: f"{label and '[' + label + '] '}serve {text}, {big:,} keys"
    try:
        # Warm-up: serve's cache, nginx's workers, the loopback.
        wrk(ngx_url, script, "malformed", None, 1, threads, connections)
        wrk(srv_url, script, "auth", keys_file, 1, threads, connections)

        def side_by_side(mode, conns, denied=False):
            ref, got = [], []
            for _ in range(rounds):
                ref.append(wrk(ngx_url, script, mode, keys_file, seconds, threads, conns))
                got.append(wrk(srv_url, script, mode, keys_file, seconds, threads, conns))
            for (_, _, _, errors, _, _) in ref + got:
                if errors:
                    sys.exit(f"serve {mode}: wrk saw {errors} socket errors")
            answered = sum(r[0] for r in got) * seconds
            refused = sum(r[2] for r in got)
            # Every answer a VALID one, or (the flood) every answer a refusal.
            if (not denied and refused) or (denied and refused < 0.99 * answered):
                sys.exit(f"serve {mode}: {refused} of about {answered:.0f} answers were not the expected kind")
            med = lambda rs, i: statistics.median(r[i] for r in rs)
            return med(got, 0), med(got, 1), med(ref, 0), med(ref, 1)

        rps, p99, nrps, np99 = side_by_side("auth", connections)
        peak_ngx = nrps
        auth_rps = rps
        rows.append((name_of("/v1/auth, valid keys rotating over 10,000"),
                     f"{rps:,.0f} req/s, p99 {p99*1000:.2f} ms", f"nginx {nrps:,.0f} req/s, p99 {np99*1000:.2f} ms",
                     f"{rps/nrps:.2f}x", ">= 0.35x nginx" if label else ">= 0.6x nginx"))
        if not label:
            # The p99 target is at 0.6x nginx's peak: 8 connections keep serve
            # above that without queueing 64 requests deep.
            rps, p99, nrps, np99 = side_by_side("auth", 8)
            rows.append((name_of("/v1/auth latency at 8 connections"),
                         f"{rps:,.0f} req/s ({rps/peak_ngx:.2f}x nginx's peak), p99 {p99*1000:.2f} ms",
                         f"nginx {nrps:,.0f} req/s, p99 {np99*1000:.2f} ms", f"p99 {p99/np99:.2f}x nginx's",
                         "p99 < 2 ms at >= 0.6x nginx"))
            rps, p99, nrps, np99 = side_by_side("verify", connections)
            rows.append((name_of("POST /v1/verify JSON, same keys"), f"{rps:,.0f} req/s, p99 {p99*1000:.2f} ms",
                         f"nginx {nrps:,.0f} req/s, p99 {np99*1000:.2f} ms", f"{rps/nrps:.2f}x", ">= 0.5x nginx"))
            rps, p99, nrps, np99 = side_by_side("malformed", connections, denied=True)
            rows.append((name_of("/v1/auth, malformed-key flood"), f"{rps:,.0f} req/s, p99 {p99*1000:.2f} ms",
                         f"nginx {nrps:,.0f} req/s, p99 {np99*1000:.2f} ms", f"{rps/nrps:.2f}x", ">= 0.8x nginx"))

            # Valid keys' latency (8 connections): alone, beside 64 connections
            # of valid keys, and beside 64 of malformed ones. On a saturated
            # core no server keeps its latency alone; a malformed flood must
            # cost valid keys no more than as much legitimate traffic does.
            alone, beside_valid, beside_flood = [], [], []
            for _ in range(rounds):
                alone.append(wrk(srv_url, script, "auth", keys_file, seconds, 1, 8))
                for kind, into in (("auth", beside_valid), ("malformed", beside_flood)):
                    other = wrk_start(srv_url, script, kind, keys_file, seconds, threads, connections)
                    into.append(wrk(srv_url, script, "auth", keys_file, seconds, 1, 8))
                    wrk_wait(other)
            if any(r[2] or r[3] for r in alone + beside_valid + beside_flood):
                sys.exit("valid keys under a flood: some answers were not VALID")
            med = lambda rs: statistics.median(r[1] for r in rs)
            rows.append((name_of("/v1/auth, valid keys (8 connections) beside a malformed flood"),
                         f"p99 {med(beside_flood)*1000:.2f} ms",
                         f"beside valid keys {med(beside_valid)*1000:.2f} ms, alone {med(alone)*1000:.2f} ms",
                         f"{med(beside_flood)/med(beside_valid):.2f}x", "<= 1x beside valid keys"))

            # Whole-process `keysmith verify`, one after another.
            runs = 5 if quick else 31
            with open(p("cli_key"), "w") as f:
                f.write(keys[0] + "\n")
            times = [run([ks, "--db", cli_db or db, "verify"], p("cli_key"))[0] for _ in range(runs)]
            cli = 1 / statistics.median(times)
            rows.append((name_of("/v1/auth against whole-process verify"), f"{auth_rps:,.0f} req/s",
                         f"keysmith verify {cli:,.0f} runs/s", f"{auth_rps/cli:,.0f}x", ">= 100x"))

            # Freshness: a key outside wrk's rotation, disabled mid-load.
            valid_after, sent_after, valid_before = freshness_under_load(
                ks, db, srv_url, script, keys_file, keys[10_000], threads, 4 if quick else 10)
            if not valid_before:
                sys.exit("freshness: the key was never VALID before its disable")
            rows.append((name_of("freshness under load: disable mid-run"),
                         f"{valid_after} VALID after disable exited", f"of {sent_after:,} requests after it",
                         f"{valid_before:,} VALID before", "0 VALID after"))

            # A rate limit under a minute of load (docs/src/limits.md).
            admitted, bound, total = rate_limit_under_load(ks, db, p, srv_url, script, threads, connections,
                                                           7 if quick else 61)
            rows.append((name_of("rate limit 200/2s under wrk for a minute"),
                         f"{admitted:,} VALID of {total:,} answers",
                         f"the limit allows {bound:,} in the run", f"{admitted/bound:.4f}",
                         "within 1% of the limit, never over"))

        rss = rss_kib(srv.pid)
    finally:
        import signal
        code = stop(srv, signal.SIGTERM)
        stop(ngx, signal.SIGQUIT)  # nginx's graceful stop
    if code != 0:
        sys.exit(f"keysmith serve exited {code} on SIGTERM")
    rows.append((name_of("memory after the runs above"), f"{rss/1024:.1f} MiB resident", "", "", "< 64 MiB"))
    if not label:
        ready = start_to_ready(ks, db, 5 if quick else 21)
        rows.append((name_of("start to ready"), f"{ready*1000:.1f} ms", "", "", "< 50 ms"))
    where = (f"servers on CPUs {','.join(map(str, server_cpus))}, wrk on {','.join(map(str, load.LOAD_CPUS))}"
             if server_cpus else "servers and wrk sharing every CPU")
    return (f"serve: wrk {threads} threads, {connections} connections unless said, {seconds} s x {rounds} "
            f"rounds (median), nginx with {workers} workers vs serve with {workers} threads; {where}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keysmith", default=os.path.join(ROOT, "target/release/keysmith"))
    ap.add_argument("--quick", action="store_true", help="fewer runs, for a smoke test")
    ap.add_argument("--serve-only", action="store_true",
                    help="only the serve cases (wrk against serve and nginx)")
    ap.add_argument("--owners-only", action="store_true",
                    help="only the cases of owners, metadata, IP rules, shared uses and refills (bench/owners.py)")
    ap.add_argument("--fleet-only", action="store_true",
                    help="only the cases of rate limits across a fleet (bench/fleet.py)")
    ap.add_argument("--postgres", metavar="URL", default=os.environ.get("KEYSMITH_BENCH_POSTGRES"),
                    help="admin URL of a PostgreSQL server where ks_bench_* databases may be created "
                         "and dropped; adds the PostgreSQL cases (default: $KEYSMITH_BENCH_POSTGRES)")
    ap.add_argument("--psql", metavar="PATH", help="the psql binary for the PostgreSQL reference runs")
    ap.add_argument("--baseline", metavar="PATH",
                    help="an older keysmith binary: the verify, table and serve cases run on both, alternating")
    args = ap.parse_args()
    ks = args.keysmith
    sqlite3 = shutil.which("sqlite3")
    if not sqlite3:
        sys.exit("sqlite3 is needed for the reference runs (apt-get install sqlite3)")
    psql = None
    if args.postgres:
        if not args.postgres.startswith(("postgres://", "postgresql://")):
            sys.exit("--postgres takes a postgres:// URL")
        psql = args.psql or real_psql()
        if not psql:
            sys.exit("psql is needed for the PostgreSQL reference runs (apt-get install postgresql-client)")
    runs = 5 if args.quick else 31
    bulk_runs = 1 if args.quick else 3
    big = 100_000 if args.quick else 1_000_000
    rows = []
    tmp = tempfile.mkdtemp(prefix="keysmith-bench-")
    os.environ.pop("KEYSMITH_DB", None)
    owners_note = serve_note = fleet_note = None
    try:
        p = lambda name: os.path.join(tmp, name)
        pg_db = (lambda name: pg_fresh(psql, args.postgres, name)) if args.postgres else None
        if args.owners_only:
            owners_note = owners.owner_cases(ks, p, args.quick, rows)
            return print_rows(runs, bulk_runs, [owners_note], rows)
        if args.fleet_only:
            fleet_note = fleet.fleet_cases(ks, p, args.quick, rows, pg_db)
            return print_rows(runs, bulk_runs, [fleet_note], rows)
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

        if not args.serve_only:
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
                         f"sqlite3 {m['sqlite3']*1000:.2f} ms", f"{m['keysmith']/m['sqlite3']:.2f}x", "<= 1.10x"))

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
                         f"sqlite3 {m['sqlite3']*1000:.2f} ms", f"{m['keysmith']/m['sqlite3']:.2f}x", "<= 1.10x"))

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

        serve_note = serve_cases(ks, p, p("big.db"), big_keys, big, args.quick, rows)
        owners_note = owners.owner_cases(ks, p, args.quick, rows)
        fleet_note = fleet.fleet_cases(ks, p, args.quick, rows, pg_db)

        if args.baseline:
            baseline_cases(ks, args.baseline, p, p("big.jsonl"), big, args.quick, bulk_runs, rows)

        if args.postgres and not args.serve_only:
            pg_settings = postgres_cases(ks, psql, args.postgres, p, runs, bulk_runs, big, rows, args.quick)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if args.postgres:
            for db in ("ks_bench_1m", "ks_bench_1k", "ks_bench_bulk", "ks_bench_fleet_plain",
                       "ks_bench_fleet_rated"):
                subprocess.run(psql_argv(psql, args.postgres, f"DROP DATABASE IF EXISTS {db}"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    notes = [serve_note, owners_note, fleet_note]
    if args.postgres and not args.serve_only:
        u = urllib.parse.urlsplit(args.postgres)
        notes.append(f"postgres: {u.hostname}:{u.port or 5432} ({pg_settings})")
    print_rows(runs, bulk_runs, notes, rows)


def print_rows(runs, bulk_runs, notes, rows):
    print(f"keysmith benchmarks: {platform.node()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"runs per whole-process case: {runs} (alternating, median); bulk runs: {bulk_runs}")
    for note in notes:
        print(note)
    header = ("case", "keysmith", "reference / detail", "ratio / memory", "target")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(5)]
    for r in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    main()
