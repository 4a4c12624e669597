"""The load side of keysmith's serve benchmarks: `keysmith serve` started
and stopped, wrk run on CPUs of its own and its output read. Used by
bench/run.py and bench/owners.py."""

import os
import shutil
import subprocess
import sys


def pinned(cpus, argv):
    return ["taskset", "-c", ",".join(map(str, cpus)), *argv] if cpus else argv


def start_serve(ks, db, cpus=None, extra=()):
    """keysmith serve on a port the system chose; its address from the ready line."""
    import threading
    proc = subprocess.Popen(pinned(cpus, [ks, "--db", db, "serve", "--listen", "127.0.0.1:0", *extra]),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    ready = "keysmith serve: listening on http://"
    for line in proc.stderr:
        if line.startswith(ready):
            addr = line[len(ready):].strip()
            break
    else:
        sys.exit(f"keysmith serve never got ready (exit {proc.wait()})")
    # Keep its stderr drained.
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    return proc, f"http://{addr}"


def stop(proc, sig):
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def parse_duration(text):
    for unit, scale in (("us", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)


LOAD_CPUS = None  # set by load_setup: where wrk runs


def wrk(url, script, mode, keys_file, seconds, threads, connections):
    """One wrk run: (requests/s, p99 in seconds, non-2xx responses, errors)."""
    return wrk_wait(wrk_start(url, script, mode, keys_file, seconds, threads, connections))


def wrk_start(url, script, mode, keys_file, seconds, threads, connections):
    argv = pinned(LOAD_CPUS, ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                              "--latency", "-s", script, url, "--", mode])
    if keys_file:
        argv.append(keys_file)
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wrk_wait(proc):
    return wrk_read(wrk_output(proc))


def wrk_output(proc):
    """What a wrk run printed, once it ended well."""
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"wrk failed ({proc.returncode}): {stderr}{stdout}")
    sys.stderr.write(stderr)
    return stdout


def wrk_read(stdout):
    """(requests/s, p99 in seconds, non-2xx responses, errors, responses, seconds) from wrk's output."""
    rps = p99 = None
    non2xx = errors = total = 0
    took = None
    for line in stdout.splitlines():
        words = line.split()
        if words[1:3] == ["requests", "in"]:
            # 123456 requests in 60.01s, 12.34MB read
            total, took = int(words[0]), parse_duration(words[3].rstrip(","))
        elif line.startswith("Requests/sec:"):
            rps = float(words[1])
        elif words[:1] == ["99%"]:
            p99 = parse_duration(words[1])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            non2xx = int(words[-1])
        elif line.strip().startswith("Socket errors:"):
            # Socket errors: connect 0, read 0, write 0, timeout 0
            errors = sum(int(w.strip(",")) for w in words[3::2])
    if rps is None or p99 is None:
        sys.exit(f"cannot read wrk's output:\n{stdout}")
    return rps, p99, non2xx, errors, total, took


def split_cpus():
    """(the servers' CPUs, wrk's CPUs): halves of this process's, or both all of them."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or not shutil.which("taskset"):
        return None, None
    half = len(cpus) // 2
    return cpus[:half], cpus[half:]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def load_setup(p, keys, keys_name, script_text):
    """Where servers and wrk run, how many threads each, wrk's script (its
    text, or a function of the threads giving it), and the file of the
    first 10,000 `keys` (none without `keys_name`), as every serve case
    uses them."""
    global LOAD_CPUS
    server_cpus, LOAD_CPUS = split_cpus()
    workers = len(server_cpus) if server_cpus else len(os.sched_getaffinity(0))
    threads = len(LOAD_CPUS) if LOAD_CPUS else max(1, workers // 2)
    script = p("bench.lua")
    with open(script, "w") as f:
        f.write(script_text(threads) if callable(script_text) else script_text)
    keys_file = None
    if keys_name:
        keys_file = p(keys_name)
        with open(keys_file, "w") as f:
            f.write("\n".join(keys[:10_000]) + "\n")
    return server_cpus, workers, threads, script, keys_file
