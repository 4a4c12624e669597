"""keysmith benchmarks of owners, metadata, IP rules, shared uses and
refills (docs/src/owners.md), each beside its reference in the same run:

- /v1/auth on keys with an owner, metadata and IP rules against the same
  run on plain keys;
- /v1/verify on 100 keys spending their owner's uses against 100 keys
  spending their own, with every VALID answer counted against the uses
  the store lost;
- the first verifications of 100,000 keys after their `1m` refill fell
  due against the same keys' verifications one period earlier.

Run by bench/run.py (`--owners-only` runs just these).
"""

import json
import statistics
import subprocess
import sys
import time

import load

def counting_lua(thread_count):
    """wrk's script for these cases: /v1/auth or /v1/verify over a file of
    keys, counting the VALID answers (wrk's own count is of responses);
    in "once" mode each of the `thread_count` threads verifies its own
    slice of the keys once."""
    return r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  mode, keys = args[1], {}
  for line in io.lines(args[2]) do
    if #line > 0 then keys[#keys + 1] = line end
  end
  valid, answered = 0, 0
  local n = #keys
  if mode == "once" then
    -- This thread's slice: keys first .. last, each verified once.
    first = math.floor(tid * n / THREADS) + 1
    last = math.floor((tid + 1) * n / THREADS)
    i = first - 1
  else
    i = (tid * 997) % n
  end
end

function request()
  -- wrk calls this once on its first thread to check the script before
  -- any connection (wrk.c, script_verify_request): that call takes no key.
  checked = checked or tid ~= 0
  if not checked then
    checked = true
    return wrk.format("GET", "/healthz")
  end
  if mode == "verify" then
    i = i % #keys + 1
    return wrk.format("POST", "/v1/verify", {["Content-Type"] = "application/json"},
                      '{"key":"' .. keys[i] .. '"}')
  end
  if mode == "once" then
    -- Past the slice, while its last answers are in flight: a request
    -- that spends nothing (and is not counted below).
    if i == last then return wrk.format("GET", "/healthz") end
    i = i + 1
  else
    i = i % #keys + 1
  end
  return wrk.format("GET", "/v1/auth", {["X-API-Key"] = keys[i]})
end

function response(status, headers, body)
  if mode == "verify" then
    answered = answered + 1
    if body:find('"code":"VALID"', 1, true) then valid = valid + 1 end
  elseif headers["x-keysmith-code"] then
    answered = answered + 1
    if status == 200 then valid = valid + 1 end
  end
  if mode == "once" and answered == last - first + 1 then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local v, a = 0, 0
  for _, t in ipairs(threads) do
    v = v + t:get("valid")
    a = a + t:get("answered")
  end
  io.write(string.format("keysmith-valid %d %d\n", v, a))
end
""".replace("THREADS", str(thread_count))


def wrk_counting(url, script, mode, keys_file, seconds, threads, connections):
    """One wrk run: (requests/s, p99 in seconds, VALID answers, answers)."""
    return wrk_counting_wait(load.wrk_start(url, script, mode, keys_file, seconds, threads, connections), mode)


def wrk_counting_wait(proc, mode):
    """`wrk_counting` of a wrk run started with `load.wrk_start`."""
    stdout = load.wrk_output(proc)
    rps, p99, _, errors, _, _ = load.wrk_read(stdout)
    if errors:
        sys.exit(f"{mode}: wrk saw {errors} socket errors")
    for line in stdout.splitlines():
        if line.startswith("keysmith-valid "):
            _, valid, answered = line.split()
            return rps, p99, int(valid), int(answered)
    sys.exit(f"wrk's script printed no count:\n{stdout}")


def keysmith(ks, db, *argv, stdin=None):
    """Runs keysmith on `db`, exiting the benchmark if it fails; its stdout."""
    out = subprocess.run([ks, "--db", db, *argv], stdin=stdin or subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if out.returncode != 0:
        sys.exit(f"keysmith {' '.join(argv)} exited {out.returncode}: {out.stderr.decode()}")
    return out.stdout.decode()


def create_from(ks, db, path, lines):
    """`create --from` of `lines` (dicts); returns the keys, in order."""
    with open(path, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    out = keysmith(ks, db, "--json", "create", "--from", path)
    return [json.loads(line)["key"] for line in out.splitlines() if line.strip()]


def write_keys(path, keys):
    with open(path, "w") as f:
        f.write("\n".join(keys) + "\n")
    return path


def rich_vs_plain(ks, p, quick, rows, cpus, threads, script):
    """/v1/auth, keys with an owner, metadata and IP rules against plain keys."""
    count, owners = (10_000, 100) if quick else (100_000, 1_000)
    seconds, rounds = (2, 1) if quick else (15, 3)
    plain = create_from(ks, p("plain.db"), p("plain.jsonl"),
                        ({"name": f"k {i}", "service": "sms"} for i in range(count)))
    rich = create_from(ks, p("rich.db"), p("rich.jsonl"), (
        {"name": f"k {i}", "service": "sms", "owner": f"customer-{i % owners}",
         "meta": {"plan": ("free", "pro", "enterprise")[i % 3], "customer": f"customer-{i % owners}",
                  "region": "eu-west-1", "features": ["search", "export"], "seats": i % 50},
         "allow_ip": ["127.0.0.0/8", "10.0.0.0/8", "2001:db8::/32"]}
        for i in range(count)))
    # The owners' own rules, so that both are checked.
    for o in range(owners):
        keysmith(ks, p("rich.db"), "owner", "set", f"customer-{o}", "--allow-ip", "127.0.0.1/32",
                 "--allow-ip", "192.168.0.0/16")
    plain_keys = write_keys(p("plain_keys.txt"), plain[:10_000])
    rich_keys = write_keys(p("rich_keys.txt"), rich[:10_000])
    servers = {}
    try:
        for name, db in (("plain", p("plain.db")), ("rich", p("rich.db"))):
            servers[name] = load.start_serve(ks, db, cpus, extra=["--meta-header"])
        for name, keys_file in (("plain", plain_keys), ("rich", rich_keys)):  # warm-up
            wrk_counting(servers[name][1], script, "auth", keys_file, 1, threads, 64)
        got = {"plain": [], "rich": []}
        for _ in range(rounds):
            for name, keys_file in (("plain", plain_keys), ("rich", rich_keys)):
                rps, p99, valid, answered = wrk_counting(servers[name][1], script, "auth", keys_file,
                                                         seconds, threads, 64)
                if valid != answered:
                    sys.exit(f"/v1/auth {name}: {answered - valid} of {answered} answers were not 200")
                got[name].append((rps, p99))
    finally:
        import signal
        for proc, _ in servers.values():
            load.stop(proc, signal.SIGTERM)
    med = lambda name, i: statistics.median(r[i] for r in got[name])
    rows.append((f"serve /v1/auth, keys with owner, metadata, IP rules, {count:,} keys",
                 f"{med('rich', 0):,.0f} req/s, p99 {med('rich', 1)*1000:.2f} ms",
                 f"plain keys {med('plain', 0):,.0f} req/s, p99 {med('plain', 1)*1000:.2f} ms",
                 f"{med('rich', 0)/med('plain', 0):.2f}x", ">= 0.9x plain keys"))


def verdicts(url):
    """serve's count of its answers by code (from /metrics): every answer
    it gave, those wrk had no time to read at the end of a run included,
    once the requests still in flight when wrk stopped are answered (the
    count is the same twice, a fifth of a second apart)."""
    import urllib.request

    def read():
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:
            text = r.read().decode()
        counts = {}
        for line in text.splitlines():
            if line.startswith('keysmith_verifications_total{code="'):
                code = line.split('"')[1]
                counts[code] = int(float(line.split()[-1]))
        return counts

    counts = read()
    while True:
        time.sleep(0.2)
        again = read()
        if again == counts:
            return counts
        counts = again


def uses_left(ks, db, owner=None):
    """The uses left of the owner, or the sum of every key's."""
    if owner:
        return json.loads(keysmith(ks, db, "--json", "owner", "show", owner))["remaining_uses"]
    return sum(key["remaining_uses"] for key in json.loads(keysmith(ks, db, "--json", "list")))


def shared_vs_own_uses(ks, p, quick, rows, cpus, threads, script):
    """/v1/verify, 100 keys spending their owner's uses against 100 spending
    their own; every VALID answer must have spent exactly one use."""
    seconds, rounds = (2, 1) if quick else (15, 3)
    plenty = 1_000_000_000
    shared_db, own_db = p("shared.db"), p("own.db")
    shared = create_from(ks, shared_db, p("shared.jsonl"),
                         ({"name": f"shared {i}", "owner": "acme"} for i in range(100)))
    keysmith(ks, shared_db, "owner", "set", "acme", "--uses", str(plenty))
    own = create_from(ks, own_db, p("own.jsonl"), ({"name": f"own {i}", "uses": plenty} for i in range(100)))
    files = {"shared": write_keys(p("shared_keys.txt"), shared), "own": write_keys(p("own_keys.txt"), own)}
    dbs = {"shared": shared_db, "own": own_db}
    left = lambda name: uses_left(ks, dbs[name], "acme" if name == "shared" else None)
    servers = {}
    got = {"shared": [], "own": []}
    valid = {}
    before = {name: left(name) for name in dbs}
    try:
        for name in dbs:
            servers[name] = load.start_serve(ks, dbs[name], cpus)
        for _ in range(rounds):
            for name in dbs:
                rps, p99, v, answered = wrk_counting(servers[name][1], script, "verify", files[name],
                                                     seconds, threads, 64)
                if v != answered:
                    sys.exit(f"/v1/verify {name}: {answered - v} of {answered} answers were not VALID")
                got[name].append((rps, p99))
        answers = {name: verdicts(servers[name][1]) for name in dbs}
    finally:
        import signal
        for proc, _ in servers.values():
            load.stop(proc, signal.SIGTERM)
    spent = {name: before[name] - left(name) for name in dbs}
    for name in dbs:
        valid[name] = answers[name].pop("VALID", 0)
        if any(answers[name].values()) or spent[name] != valid[name]:
            sys.exit(f"{name} uses: {valid[name]:,} VALID answers, others {answers[name]}, "
                     f"but {spent[name]:,} uses spent")
    med = lambda name, i: statistics.median(r[i] for r in got[name])
    rows.append(("serve /v1/verify, 100 keys sharing their owner's uses",
                 f"{med('shared', 0):,.0f} req/s, p99 {med('shared', 1)*1000:.2f} ms; "
                 f"{valid['shared']:,} VALID = {spent['shared']:,} spent",
                 f"own uses {med('own', 0):,.0f} req/s, p99 {med('own', 1)*1000:.2f} ms; "
                 f"{valid['own']:,} VALID = {spent['own']:,} spent",
                 f"{med('shared', 0)/med('own', 0):.2f}x", "exact, >= 0.8x own uses"))


def refill_turn(ks, p, quick, rows, cpus, threads, script):
    """The first verifications of keys after their refill fell due, against
    the same keys' verifications one period earlier.

    The store holds 100,000 keys refilled every minute (their periods
    counted from their creation, within the same second or two). A spend
    waits for SQLite's durable commit, so a pass verifies a sample of them
    (each key once, wrk's threads taking a slice each, on 8 connections;
    while a slice's last answers are in flight, its free connections ask
    /healthz, at most 7 requests a thread):
    right after a turn (every key's refill due: the spend persists it), and
    in the second half of the period before (the same keys, verified once
    already in that period or new: no refill due). Three runs, one a turn.
    """
    count, sample = (10_000, 2_000) if quick else (100_000, 20_000)
    period = 20 if quick else 60
    runs = 1 if quick else 3
    uses = 1_000
    db = p("refill.db")
    # A key's period counts from its creation, in whole seconds.
    start = int(time.time())
    keys = create_from(ks, db, p("refill.jsonl"), (
        {"name": f"r {i}", "uses": uses, "refill": f"{period}s"} for i in range(count)))
    created = int(time.time()) + 1
    keys_file = write_keys(p("refill_keys.txt"), keys[:sample])
    proc, url = load.start_serve(ks, db, cpus)
    before, after = [], []
    window = period // 2 - 3
    try:
        for k in range(1, runs + 1):
            turn_first, turn_last = start + k * period, created + k * period
            for label, at, into in (("before the turn", turn_first - period // 2 + 1, before),
                                    ("after the turn", turn_last + 1, after)):
                wait_until(at)
                # (wrk's rate is of its whole -d: meaningless here.)
                _, p99, valid, _ = wrk_counting(url, script, "once", keys_file, window, threads, 8)
                if valid < sample or time.time() >= at + window + 1:
                    sys.exit(f"refill, {label}: {valid:,} VALID of {sample:,} keys in {window} s")
                into.append((None, p99))
    finally:
        import signal
        load.stop(proc, signal.SIGTERM)
    # The sample refilled at the last turn and spent once since; the rest
    # never verified, at what a verification would see: refilled.
    left = [key["remaining_uses"] for key in json.loads(keysmith(ks, db, "--json", "list"))]
    wrong = sum(1 for n in left if n not in (uses, uses - 1))
    if wrong or left.count(uses - 1) != sample:
        sys.exit(f"refill: {left.count(uses - 1):,} keys at {uses - 1} uses left, not {sample:,}; "
                 f"{wrong:,} at neither that nor {uses}")
    med = lambda rs, i: statistics.median(r[i] for r in rs)
    rows.append((f"serve /v1/auth, {sample:,} of {count:,} keys' first verifications after a "
                 f"{period}s refill fell due",
                 f"p99 {med(after, 1)*1000:.2f} ms",
                 f"one period earlier p99 {med(before, 1)*1000:.2f} ms (runs: after "
                 + ", ".join(f"{r[1]*1000:.2f}" for r in after) + "; before "
                 + ", ".join(f"{r[1]*1000:.2f}" for r in before) + ")",
                 f"{med(after, 1)/med(before, 1):.2f}x", f"p99 <= 1.25x (median of {runs})"))


def wait_until(at):
    now = time.time()
    if at > now:
        time.sleep(at - now)


def owner_cases(ks, p, quick, rows):
    """The three cases; returns a line saying how they were measured."""
    server_cpus, _, threads, script, _ = load.load_setup(p, [], None, counting_lua)
    rich_vs_plain(ks, p, quick, rows, server_cpus, threads, script)
    shared_vs_own_uses(ks, p, quick, rows, server_cpus, threads, script)
    refill_turn(ks, p, quick, rows, server_cpus, threads, script)
    return (f"owners: wrk {threads} threads, 64 connections (8 for the refill), each case beside its "
            f"reference, alternating (median of {1 if quick else 3} rounds)")
