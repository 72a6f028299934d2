#!/usr/bin/env python3
"""Writes a scenario of N services in one of three shapes, for scale tests.

    scripts/gen-topology.py chain 5000 > /tmp/chain-5000.toml
    scripts/gen-topology.py tree 5000 --rate 2000 --duration 60s
    scripts/gen-topology.py dag 5000 --seed 7

Shapes (each splits the total `--rate` evenly over its entry services, so a
scenario of 10 and one of 5,000 services simulate the same number of
requests and hops per second and differ only in how many services share
them):

- chain: groups of `--length` services (default 10), each calling the next;
  one source per group. `--length N` makes one chain through every service.
- tree: trees of fan-out `--fanout` (default 3) and `--depth` levels
  (default 3: 1 + 3 + 9 = 13 services); each node calls its children in
  parallel; one source per root. The last tree may be cut short.
- dag: groups of `--length` layers; each service calls one or two random
  services of the next layer of its group (drawn from `--seed`) and every
  fifth service publishes to a queue consumed by a service of its group.

Every service: 32 threads, an accept queue of 100, exponential work of
mean 1 ms, caller timeouts of 100 ms (timeout-heavy, as the engine's
benchmarks are). Standard library only.
"""

import argparse
import random
import sys


def service(lines, name, steps):
    lines.append(f"[services.{name}]")
    lines.append("threads = 32")
    lines.append("queue = 100")
    lines.append("steps = [")
    lines.append('  { work = { dist = "exponential", mean = "1ms" } },')
    for s in steps:
        lines.append(f"  {s},")
    lines.append("]")
    lines.append("")


def call(name):
    return f'{{ call = "{name}", timeout = "100ms" }}'


def parallel(names):
    inner = ", ".join(f'{{ call = "{n}", timeout = "100ms" }}' for n in names)
    return f"{{ parallel = [{inner}] }}"


def source(lines, name, target, rate):
    lines.append(f"[workload.{name}]")
    lines.append(f'target = "{target}"')
    lines.append(f"rate = {rate:.6g}")
    lines.append("")


def chain(n, args, lines):
    length = min(args.length, n)
    groups = [list(range(i, min(i + length, n))) for i in range(0, n, length)]
    for g, members in enumerate(groups):
        source(lines, f"w{g}", f"s{members[0]}", args.rate / len(groups))
    for members in groups:
        for k, i in enumerate(members):
            nxt = [call(f"s{members[k + 1]}")] if k + 1 < len(members) else []
            service(lines, f"s{i}", nxt)


def tree(n, args, lines):
    size = sum(args.fanout**d for d in range(args.depth))
    roots = list(range(0, n, size))
    for g, root in enumerate(roots):
        source(lines, f"w{g}", f"s{root}", args.rate / len(roots))
    for root in roots:
        end = min(root + size, n)
        for i in range(root, end):
            local = i - root
            kids = [root + local * args.fanout + c + 1 for c in range(args.fanout)]
            kids = [k for k in kids if k < end]
            service(lines, f"s{i}", [parallel([f"s{k}" for k in kids])] if kids else [])


def dag(n, args, lines):
    rng = random.Random(args.seed)
    length = min(args.length, n)
    groups = [list(range(i, min(i + length, n))) for i in range(0, n, length)]
    queues = []
    for g, members in enumerate(groups):
        source(lines, f"w{g}", f"s{members[0]}", args.rate / len(groups))
    for members in groups:
        # Layers of one to three services after a single entry service.
        layers, rest = [[members[0]]], members[1:]
        while rest:
            k = min(len(rest), rng.randint(1, 3))
            layers.append(rest[:k])
            rest = rest[k:]
        for li, layer in enumerate(layers):
            for i in layer:
                steps = []
                if li + 1 < len(layers):
                    nxt = layers[li + 1]
                    picks = rng.sample(nxt, min(len(nxt), rng.randint(1, 2)))
                    steps.append(parallel([f"s{p}" for p in picks]))
                if i % 5 == 4 and li + 1 < len(layers):
                    consumer = rng.choice(layers[-1])
                    queues.append((f"q{i}", f"s{consumer}"))
                    steps.append(f'{{ publish = "q{i}" }}')
                service(lines, f"s{i}", steps)
    for q, consumer in queues:
        lines.append(f"[queues.{q}]")
        lines.append(f'consumer = "{consumer}"')
        lines.append("concurrency = 4")
        lines.append("")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("shape", choices=["chain", "tree", "dag"])
    p.add_argument("services", type=int)
    p.add_argument("--rate", type=float, default=500.0, help="total requests/s")
    p.add_argument("--duration", default="60s")
    p.add_argument("--length", type=int, default=10)
    p.add_argument("--fanout", type=int, default=3)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.services < 1:
        sys.exit("services must be at least 1")
    lines = [
        f"# Generated: scripts/gen-topology.py {' '.join(sys.argv[1:])}",
        f'name = "{args.shape}-{args.services}"',
        f'duration = "{args.duration}"',
        "seed = 1",
        "",
        "[network]",
        'latency = "0.5ms"',
        "",
    ]
    {"chain": chain, "tree": tree, "dag": dag}[args.shape](args.services, args, lines)
    sys.stdout.write("\n".join(lines))


if __name__ == "__main__":
    main()
