"""Run the real three-tier chain under load, then its cascade twin, then compare them.

    scripts/real-server-check/run.sh [--cascade PATH] [--worker gthread|sync] [--out DIR] [--skip-real]

Steps (DIR defaults to scripts/real-server-check/out/<worker>/):
 1. start three gunicorn servers on loopback (front -> middle -> db) with the threads and listen
    backlogs of TIERS below: one gthread process per tier, or one sync process per thread;
 2. send open-loop Poisson load to the front for DURATION seconds; at FAULT_AT the db's sleep
    becomes 10x longer for FAULT_FOR seconds (a file flag the db checks on every request);
 3. stop the servers; run the twin (twin.toml) with when_full = "reject" and = "drop", with the
    parameters below passed by --set so the two sides cannot drift apart;
 4. compare.py lines up the per-second series and writes the table and chart.

The chain's settings live here and are given to both sides; what is calibrated by hand (the
twin's CPU times and hop latencies) lives in twin.toml, with the reasoning there.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV_BIN = os.path.join(HERE, ".venv", "bin")

RATE = 30.0  # requests per second at the front
DURATION = 80.0  # seconds of arrivals
FAULT_AT, FAULT_FOR, FAULT_FACTOR = 30.0, 20.0, 10
CLIENT_TIMEOUT = 4.0  # the load generator's total deadline, s

# name: port, threads, backlog, CPU ms, sleep ms, next tier, call timeout s
TIERS = {
    "front": dict(port=18101, threads=4, backlog=8, cpu_ms=3, sleep_ms=0, next="middle", timeout=2.5),
    "middle": dict(port=18102, threads=4, backlog=8, cpu_ms=2, sleep_ms=0, next="db", timeout=1.5),
    "db": dict(port=18103, threads=2, backlog=4, cpu_ms=0, sleep_ms=25, next=None, timeout=None),
}


def worker_args(threads, worker):
    """gunicorn's options for one tier of `threads` workers, and the twin's queue for it."""
    if worker == "sync":
        # one single-threaded process per thread, each blocking in accept(): the kernel's
        # accept queue is the only queue
        return ["-k", "sync", "--workers", str(threads)]
    # gthread accepts up to --worker-connections connections and queues them in its executor
    # (1000 by default, so the listen backlog would never fill). With threads + 1 it runs
    # `threads` requests and parks one accepted connection until a slot frees (its main loop
    # stops polling while full: gunicorn counts the parked connection, see
    # docs/real-server-check.md); the rest wait in the kernel's accept queue.
    return ["-k", "gthread", "--workers", "1", "--threads", str(threads),
            "--worker-connections", str(threads + 1), "--keep-alive", "0"]


def twin_queue(backlog, worker):
    """Linux's accept queue holds backlog + 1; gthread parks one more accepted connection."""
    return backlog + 1 if worker == "sync" else backlog + 2


def start_tier(name, cfg, out, worker):
    env = dict(os.environ)
    env.update(
        TIER=name,
        CPU_MS=str(cfg["cpu_ms"]),
        SLEEP_MS=str(cfg["sleep_ms"]),
        FAULT_FILE=os.path.join(out, "db-slow.flag"),
        FAULT_FACTOR=str(FAULT_FACTOR),
        STATS_FILE=os.path.join(out, f"stats-{name}.csv"),
    )
    if cfg["next"]:
        env["NEXT"] = f"127.0.0.1:{TIERS[cfg['next']]['port']}"
        env["CALL_TIMEOUT"] = str(cfg["timeout"])
    cmd = [
        os.path.join(VENV_BIN, "gunicorn"),
    ] + worker_args(cfg["threads"], worker) + [
        "--backlog", str(cfg["backlog"]),
        "--bind", f"127.0.0.1:{cfg['port']}",
        "--chdir", HERE,
        "--log-level", "warning",
        "--error-logfile", os.path.join(out, f"gunicorn-{name}.log"),
        "app:app",
    ]
    return subprocess.Popen(cmd, env=env)


def wait_up(port, deadline=20.0):
    end = time.time() + deadline
    while time.time() < end:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"tier on port {port} did not come up")


def run_real(out, worker):
    for name in TIERS:
        path = os.path.join(out, f"stats-{name}.csv")
        if os.path.exists(path):
            os.remove(path)
    procs = []
    try:
        for name in ("db", "middle", "front"):
            procs.append(start_tier(name, TIERS[name], out, worker))
            wait_up(TIERS[name]["port"])
        time.sleep(1.0)
        subprocess.run(
            [
                os.path.join(VENV_BIN, "python"), os.path.join(HERE, "loadgen.py"),
                "--port", str(TIERS["front"]["port"]),
                "--rate", str(RATE), "--duration", str(DURATION), "--timeout", str(CLIENT_TIMEOUT),
                "--fault-file", os.path.join(out, "db-slow.flag"),
                "--fault-at", str(FAULT_AT), "--fault-for", str(FAULT_FOR),
                "--out", os.path.join(out, "real-requests.csv"),
            ],
            check=True,
        )
        time.sleep(1.5)  # the tiers' last stats line
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)


def twin_overrides(worker):
    sets = {
        "duration": f"{DURATION:g}s",
        "workload.clients.rate": f"{RATE:g}",
        "workload.clients.timeout": f"{CLIENT_TIMEOUT:g}s",
        "fault.0.at": f"{FAULT_AT:g}s",
        "fault.0.for": f"{FAULT_FOR:g}s",
        "fault.0.slowdown": str(FAULT_FACTOR),
    }
    for name, cfg in TIERS.items():
        sets[f"services.{name}.threads"] = str(cfg["threads"])
        sets[f"services.{name}.queue"] = str(twin_queue(cfg["backlog"], worker))
        # a gthread process runs its threads under one GIL: one core; sync workers are processes
        sets[f"services.{name}.cores"] = "1" if worker == "gthread" else "2"
    return sets


def run_twin(out, when_full, cascade, worker):
    twin_out = os.path.join(out, f"twin-{when_full}")
    cmd = [cascade, "-q", "run", os.path.join(HERE, "twin.toml"), "--out", twin_out]
    for key, value in twin_overrides(worker).items():
        cmd += ["--set", f"{key}={value}"]
    for name in TIERS:
        cmd += ["--set", f"services.{name}.when_full={when_full}"]
    subprocess.run(cmd, check=True)
    return twin_out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="run directory (default: out/<worker> beside this script)")
    p.add_argument("--skip-real", action="store_true", help="reuse the real run already in --out")
    p.add_argument("--cascade", default=os.environ.get("CASCADE", "cascade"),
                   help="the cascade binary (default: $CASCADE or cascade on PATH)")
    p.add_argument("--docs", default=os.path.join(REPO, "docs"), help="where the table and chart go")
    p.add_argument("--worker", choices=("gthread", "sync"), default="gthread",
                   help="gunicorn worker class of every tier (default gthread)")
    args = p.parse_args()
    args.out = args.out or os.path.join(HERE, "out", args.worker)
    os.makedirs(args.out, exist_ok=True)
    if not args.skip_real:
        run_real(args.out, args.worker)
    for when_full in ("reject", "drop"):
        run_twin(args.out, when_full, args.cascade, args.worker)
    subprocess.run(
        [os.path.join(VENV_BIN, "python"), os.path.join(HERE, "compare.py"),
         "--out", args.out, "--docs", args.docs,
         "--fault-at", str(FAULT_AT), "--fault-for", str(FAULT_FOR), "--duration", str(DURATION),
         "--name", f"real-server-check-{args.worker}", "--title", f"gunicorn {args.worker}"],
        check=True,
    )


if __name__ == "__main__":
    main()
