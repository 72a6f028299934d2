"""Open-loop Poisson load on the front tier, with the db's fault switched by a file flag.

Every request is its own asyncio task on a fresh connection (`Connection: close`), so a slow
server never slows the arrivals (open loop), and each has a total client deadline (`--timeout`)
that counts the TCP connect too: a connection attempt dropped by a full backlog is retransmitted
by the kernel (after 1 s, 3 s, ...) inside that deadline, as a real client's would be.

Writes one CSV row per request: start_s,end_s,outcome,latency_ms (times from the run's start,
which is aligned on a whole wall-clock second so the tiers' per-second stats line up), and a
JSON file with the run's parameters and its wall-clock start.
"""

import argparse
import asyncio
import json
import os
import random
import time


async def one_request(host, port, timeout):
    async def exchange():
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(b"GET / HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n")
            await writer.drain()
            data = await reader.read()
        finally:
            writer.close()
        if not data:
            return "reset"
        status = data.split(b" ", 2)[1] if data.startswith(b"HTTP/") else b"?"
        return "ok" if status == b"200" else "error"

    try:
        return await asyncio.wait_for(exchange(), timeout)
    except asyncio.TimeoutError:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except OSError:
        return "oserror"


async def main(args):
    rng = random.Random(args.seed)
    rows = []
    tasks = []
    t0 = float(int(time.time()) + 1)
    await asyncio.sleep(t0 - time.time())
    loop_t0 = time.monotonic()
    fault_on = fault_off = False

    async def timed():
        start = time.monotonic() - loop_t0
        outcome = await one_request(args.host, args.port, args.timeout)
        end = time.monotonic() - loop_t0
        rows.append((start, end, outcome, (end - start) * 1000.0))

    next_arrival = rng.expovariate(args.rate)
    while next_arrival < args.duration:
        now = time.monotonic() - loop_t0
        if not fault_on and now >= args.fault_at:
            open(args.fault_file, "w").close()
            fault_on = True
        if fault_on and not fault_off and now >= args.fault_at + args.fault_for:
            os.remove(args.fault_file)
            fault_off = True
        if now < next_arrival:
            await asyncio.sleep(min(next_arrival - now, 0.01))
            continue
        tasks.append(asyncio.ensure_future(timed()))
        next_arrival += rng.expovariate(args.rate)
    await asyncio.gather(*tasks)
    if os.path.exists(args.fault_file):
        os.remove(args.fault_file)

    with open(args.out, "w") as f:
        f.write("start_s,end_s,outcome,latency_ms\n")
        for start, end, outcome, ms in sorted(rows):
            f.write(f"{start:.6f},{end:.6f},{outcome},{ms:.3f}\n")
    with open(args.out + ".json", "w") as f:
        json.dump({**vars(args), "t0_epoch": t0, "requests": len(rows)}, f, indent=2)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, required=True, help="requests per second (Poisson)")
    p.add_argument("--duration", type=float, required=True, help="seconds of arrivals")
    p.add_argument("--timeout", type=float, required=True, help="client's total deadline, s")
    p.add_argument("--fault-file", required=True)
    p.add_argument("--fault-at", type=float, required=True)
    p.add_argument("--fault-for", type=float, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    asyncio.run(main(p.parse_args()))
