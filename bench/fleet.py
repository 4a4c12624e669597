"""keysmith benchmarks of rate limits across a fleet
(docs/src/fleet-limits.md), each beside its reference in the same run:

- /v1/auth on 10,000 keys each with a rate limit high enough never to
  refuse, against the same keys without one: one serve on SQLite, and
  (with --postgres) three serve processes on one PostgreSQL; each round
  after 2 s of warm-up (25 s on PostgreSQL, whose cold start is longer),
  and, reported beside it, the first 3 s after 20 s without a request (a
  cold start: every key asks for a lease again);
- one key limited to 1,000 per 10 s, pressed through three serve
  processes for 30 s by a client of this script's, which records when it
  sent each request and when the answer came: at most 1,000 VALID answers
  in any 10 s window (those sent at or after its start and received before
  its end), and at least 900 in each window the load covers;
- the store transactions leasing budget per 1,000 admissions of a busy
  key, from serve's keysmith_rate_lease_calls_total.

Run by bench/run.py (`--fleet-only` runs just these). With FLEET_DEBUG=1
in the environment, every round of the 10,000-key cases prints its side,
seconds, requests/s and the servers' lease waits and calls so far to
stderr: what tells a slow round's cold start from a noisy machine.
"""

import http.client
import os
import signal
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request

import load
import owners


def metric(url, name):
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[-1]))
    return 0


def cpu_seconds(pids):
    """CPU time (user and system) the processes used so far, in seconds."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone: a PostgreSQL backend that ended
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_pids():
    """The PostgreSQL server's processes on this machine (none when it is
    elsewhere): the store's side of the CPU a request costs."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() == "postgres":
                    pids.append(int(entry))
        except (OSError, ValueError):
            pass
    return pids


def create_keys(ks, db, path, count, rate):
    return owners.create_from(ks, db, path, (
        {"name": f"k {i}", **({"rate": rate} if rate else {})} for i in range(count)))


def rated_vs_plain(ks, p, quick, rows, cpus, threads, script, db_of, servers_count, label, target, warm):
    """/v1/auth over 10,000 keys with a generous rate limit against the same
    without one, on `servers_count` serve processes each (wrk split among
    them), alternating rounds."""
    count = 10_000
    # One round's noise on a shared VM is larger than the gap measured
    # (BENCHMARKS.md): five rounds, and each round's own ratio shown.
    seconds, rounds = (3, 1) if quick else (15, 5)
    stores = {"plain": db_of("plain"), "rated": db_of("rated")}
    files = {}
    for name, db in stores.items():
        keys = create_keys(ks, db, p(f"fleet_{name}.jsonl"), count, "100000/1m" if name == "rated" else None)
        files[name] = owners.write_keys(p(f"fleet_{name}_keys.txt"), keys)
    got = {"plain": [], "rated": []}
    servers = {name: [load.start_serve(ks, db, cpus) for _ in range(servers_count)]
               for name, db in stores.items()}
    try:
        def press(name, secs):
            # CPU per request is steadier than requests/s on a shared VM: what
            # tells where the gap is (BENCHMARKS.md).
            pids = [proc.pid for proc, _ in servers[name]]
            store_pids = postgres_pids() if servers_count > 1 else []
            cpu_before = (cpu_seconds(pids), cpu_seconds(store_pids))
            procs = [load.wrk_start(url, script, "auth", files[name], secs, max(1, threads // servers_count),
                                    max(8, 64 // servers_count))
                     for _, url in servers[name]]
            results = [owners.wrk_counting_wait(proc, "auth") for proc in procs]
            for rps, p99, valid, answered in results:
                if valid != answered:
                    sys.exit(f"fleet {name}: {answered - valid} of {answered} answers were not 200")
            requests = sum(r[3] for r in results)
            cpu = [(cpu_seconds(pids) - cpu_before[0]) / max(1, requests),
                   (cpu_seconds(store_pids) - cpu_before[1]) / max(1, requests)]
            if os.environ.get("FLEET_DEBUG"):
                print(name, secs, sum(r[0] for r in results),
                      sum(metric(url, "keysmith_rate_lease_waits_total") for _, url in servers[name]),
                      sum(metric(url, "keysmith_rate_lease_calls_total") for _, url in servers[name]),
                      file=sys.stderr, flush=True)
            return sum(r[0] for r in results), max(r[1] for r in results), *cpu

        for name in got:  # warm-up: serve's cache, and the first leases of every key
            press(name, 5 if not quick else 2)
        for _ in range(rounds):
            for name in got:
                # Each side idled while the other ran: an idle lease is
                # given back after a quarter of its span (15 s here), and
                # what that costs is the cold-start row's, not this one's.
                press(name, 2 if quick else warm)
                got[name].append(press(name, seconds))
        # Cold start: every key's first request after its leases were
        # given back for idleness (20 s without a request).
        time.sleep(20)
        cold = {name: press(name, 3) for name in got}
    finally:
        for procs in servers.values():
            for proc, _ in procs:
                load.stop(proc, signal.SIGTERM)
    med = lambda name, i: statistics.median(r[i] for r in got[name])
    rows.append((f"{label}/v1/auth, {count:,} keys each with a rate limit (100000/1m), "
                 f"{servers_count} serve",
                 f"{med('rated', 0):,.0f} req/s, p99 {med('rated', 1)*1000:.2f} ms",
                 f"no rate limit {med('plain', 0):,.0f} req/s, p99 {med('plain', 1)*1000:.2f} ms",
                 f"{med('rated', 0)/med('plain', 0):.2f}x (rounds "
                 + ", ".join(f"{r[0]/q[0]:.2f}" for r, q in zip(got['rated'], got['plain'])) + ")",
                 target))
    store_cpu = f", the store {med('rated', 3)*1e6:.0f}" if servers_count > 1 else ""
    plain_store_cpu = f", the store {med('plain', 3)*1e6:.0f}" if servers_count > 1 else ""
    rows.append((f"{label}  CPU per request, microseconds",
                 f"serve {med('rated', 2)*1e6:.0f}{store_cpu}",
                 f"no rate limit: serve {med('plain', 2)*1e6:.0f}{plain_store_cpu}",
                 f"{med('rated', 2)/med('plain', 2):.2f}x", "reported"))
    rows.append((f"{label}  the first 3 s after 20 s idle (every key asks for a lease again)",
                 f"{cold['rated'][0]:,.0f} req/s, p99 {cold['rated'][1]*1000:.2f} ms",
                 f"no rate limit {cold['plain'][0]:,.0f} req/s, p99 {cold['plain'][1]*1000:.2f} ms",
                 f"{cold['rated'][0]/cold['plain'][0]:.2f}x", "reported"))


def pressed_windows(ks, p, quick, rows, cpus):
    """One key limited to 1,000 per 10 s, three serve processes, a client
    of six threads on keep-alive connections for 30 s."""
    limit, window = 1_000, 10.0
    seconds = 12 if quick else 30
    db = p("fleet_window.db")
    key = create_keys(ks, db, p("fleet_window.jsonl"), 1, f"{limit}/10s")[0]
    servers = [load.start_serve(ks, db, cpus) for _ in range(3)]
    answers = []
    lock = threading.Lock()
    start = time.monotonic()
    until = start + seconds

    def client(url):
        host = urllib.parse.urlsplit(url).netloc
        conn = http.client.HTTPConnection(host, timeout=10)
        mine = []
        while time.monotonic() < until:
            sent = time.monotonic()
            conn.request("GET", "/v1/auth", headers={"X-API-Key": key})
            r = conn.getresponse()
            r.read()
            mine.append((sent, time.monotonic(), r.status == 200))
            if r.status not in (200, 429):
                sys.exit(f"fleet window: status {r.status}")
        conn.close()
        with lock:
            answers.extend(mine)

    try:
        threads = [threading.Thread(target=client, args=(url,)) for _, url in servers for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        calls = sum(metric(url, "keysmith_rate_lease_calls_total") for _, url in servers)
    finally:
        for proc, _ in servers:
            load.stop(proc, signal.SIGTERM)
    valid = sorted(a for a in answers if a[2])
    most = 0
    for i, (sent, _, _) in enumerate(valid):
        inside = sum(1 for a in valid[i:] if a[0] < sent + window and a[1] < sent + window)
        most = max(most, inside)
    # Windows the load covers whole, starting every 100 ms.
    least = None
    t = start
    while t + window <= until:
        inside = sum(1 for a in valid if a[0] >= t and a[1] < t + window)
        least = inside if least is None else min(least, inside)
        t += 0.1
    rows.append((f"one key 1,000/10s, 3 serve, {len(answers):,} requests in {seconds} s",
                 f"at most {most:,} VALID in a 10 s window",
                 f"at least {least:,} in each window the load covers", f"{len(valid):,} VALID",
                 "<= 1,000 in any window, >= 900 in each"))
    rows.append(("store transactions leasing, per 1,000 admissions of that key (3 serve)",
                 f"{calls * 1000 / max(len(valid), 1):,.0f}", f"{calls:,} lease calls", "", "reported"))
    if most > limit:
        sys.exit(f"fleet window: {most} VALID answers in one window of 10 s")


def lone_busy_key(ks, p, quick, rows, cpus, threads, script):
    """Lease calls per 1,000 admissions of one busy key with a limit far
    above its load, one serve."""
    db = p("fleet_lone.db")
    key = create_keys(ks, db, p("fleet_lone.jsonl"), 1, "1000000/1m")[0]
    keys_file = owners.write_keys(p("fleet_lone_key.txt"), [key])
    proc, url = load.start_serve(ks, db, cpus)
    try:
        load.wrk(url, script, "auth", keys_file, 3 if quick else 10, threads, 64)
        calls = metric(url, "keysmith_rate_lease_calls_total")
        valid = metric(url, 'keysmith_verifications_total{code="VALID"}')
    finally:
        load.stop(proc, signal.SIGTERM)
    rows.append(("store transactions leasing, per 1,000 admissions of a lone busy key (1,000,000/1m)",
                 f"{calls * 1000 / max(valid, 1):.2f}", f"{calls:,} lease calls for {valid:,} VALID", "",
                 "reported"))


def fleet_cases(ks, p, quick, rows, pg_db=None):
    """The cases; `pg_db(name)` makes a fresh PostgreSQL database and gives
    its URL (None: no PostgreSQL). Returns a line saying how they ran."""
    server_cpus, _, threads, script, _ = load.load_setup(p, [], None, owners.counting_lua)
    rated_vs_plain(ks, p, quick, rows, server_cpus, threads, script, lambda name: p(f"fleet_{name}.db"), 1,
                   "", ">= 0.9x no rate limit", warm=2)
    if pg_db:
        rated_vs_plain(ks, p, quick, rows, server_cpus, threads, script,
                       lambda name: pg_db(f"ks_bench_fleet_{name}"), 3, "[postgres] ",
                       ">= 0.8x no rate limit",
                       # A cold start of three processes on PostgreSQL takes
                       # about 20 s here (BENCHMARKS.md): warm past it.
                       warm=25)
    pressed_windows(ks, p, quick, rows, server_cpus)
    lone_busy_key(ks, p, quick, rows, server_cpus, threads, script)
    return (f"fleet: serve on CPUs {server_cpus}, wrk {threads} threads; rate-limited and plain keys "
            f"alternating (median of {1 if quick else 5} rounds)")
