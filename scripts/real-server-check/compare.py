"""Line up the real chain's per-second series with its cascade twins' and measure where they agree.

Inputs (in --out, written by run.py): real-requests.csv (+ .json), stats-<tier>.csv, and
twin-reject/ and twin-drop/ (cascade outputs). Outputs:
  DOCS/real-server-check-series.csv   one row per second: real and both twins side by side
  DOCS/img/real-server-check.png      goodput, failures, p99 and busy threads per tier
  OUT/comparison.md                   the headline table (also printed)

Windows are one second of the run's clock (0 = first possible arrival). As in cascade's
timeseries.csv, arrivals count when a request starts and outcomes when they happen; p50/p99
are over the successful requests answered in the window.
"""

import argparse
import csv
import json
import math
import os

TIERS = ("front", "middle", "db")
SIDES = ("real", "reject", "drop")


def quantile(values, q):
    if not values:
        return math.nan
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def real_series(out, horizon):
    meta = json.load(open(os.path.join(out, "real-requests.csv.json")))
    t0 = meta["t0_epoch"]
    s = {k: [0.0] * horizon for k in ("arrivals", "ok", "timeout", "error", "refused", "reset")}
    lat = [[] for _ in range(horizon)]
    with open(os.path.join(out, "real-requests.csv")) as f:
        for row in csv.DictReader(f):
            start, end = int(float(row["start_s"])), int(float(row["end_s"]))
            if start < horizon:
                s["arrivals"][start] += 1
            if end < horizon:
                kind = row["outcome"] if row["outcome"] in s else "reset"
                s[kind][end] += 1
                if kind == "ok":
                    lat[end].append(float(row["latency_ms"]))
    s["failed"] = [s["timeout"][i] + s["error"][i] + s["refused"][i] + s["reset"][i] for i in range(horizon)]
    s["p50"] = [quantile(v, 0.50) for v in lat]
    s["p99"] = [quantile(v, 0.99) for v in lat]
    for tier in TIERS:
        s[f"busy_{tier}"] = [math.nan] * horizon
        path = os.path.join(out, f"stats-{tier}.csv")
        for line in open(path):
            sec, _, area, _peak, _done, _err = line.strip().split(",")
            i = int(sec) - int(t0)
            if 0 <= i < horizon:  # one line per worker process: sum them
                prev = s[f"busy_{tier}"][i]
                s[f"busy_{tier}"][i] = float(area) + (0.0 if math.isnan(prev) else prev)
    return s, meta


def twin_series(path, horizon):
    s = {k: [0.0] * horizon for k in ("arrivals", "ok", "timeout", "error", "rejected", "failed")}
    s["p50"] = [math.nan] * horizon
    s["p99"] = [math.nan] * horizon
    for tier in TIERS:
        s[f"busy_{tier}"] = [0.0] * horizon
        s[f"queue_{tier}"] = [0.0] * horizon
    names = {
        "arrivals_rps": "arrivals", "goodput_rps": "ok", "timeout_rps": "timeout",
        "error_rps": "error", "rejected_rps": "rejected", "p50_ms": "p50", "p99_ms": "p99",
    }
    with open(os.path.join(path, "timeseries.csv")) as f:
        for row in csv.DictReader(f):
            i = int(float(row["window_start_s"]))
            if i >= horizon:
                continue
            value = float(row["value"]) if row["value"] not in ("", "nan") else math.nan
            if row["scope"] == "entry" and row["metric"] in names:
                s[names[row["metric"]]][i] = value
            elif row["scope"] == "service" and row["metric"] in ("busy_threads", "queue_len"):
                key = "busy" if row["metric"] == "busy_threads" else "queue"
                s[f"{key}_{row['name']}"][i] = value
    s["failed"] = [s["timeout"][i] + s["error"][i] + s["rejected"][i] for i in range(horizon)]
    return s, json.load(open(os.path.join(path, "summary.json")))


def mean(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return sum(xs) / len(xs) if xs else math.nan


def first_run(windows, horizon, good, run=3):
    """The first window from which `good` holds for `run` windows in a row (nan if none)."""
    for i in windows:
        if i + run <= horizon and all(good(j) for j in range(i, i + run)):
            return i
    return math.nan


def headline(s, fault_at, fault_end, horizon, threads):
    """The figures compared: baseline, onset, size of the collapse, recovery, pool exhaustion."""
    base = range(10, int(fault_at))
    fault = range(int(fault_at), int(fault_end))
    after = range(int(fault_end), horizon)
    base_ok = mean([s["ok"][i] for i in base])
    base_p99 = mean([s["p99"][i] for i in base])
    h = {
        "baseline goodput (req/s)": base_ok,
        "baseline p50 (ms)": mean([s["p50"][i] for i in base]),
        "baseline p99 (ms)": base_p99,
    }
    onset = next((i for i in fault if s["failed"][i] > 0), None)
    h["first failures (s after fault start)"] = math.nan if onset is None else onset - fault_at
    h["goodput during fault (req/s)"] = mean([s["ok"][i] for i in fault])
    h["failed during fault (requests)"] = sum(s["failed"][i] for i in fault)
    h["failed after fault end (requests)"] = sum(s["failed"][i] for i in after)
    h["ok during fault + 30 s (requests)"] = sum(s["ok"][i] for i in range(int(fault_at), min(horizon, int(fault_end) + 30)))
    last_fail = max((i for i in range(int(fault_at), horizon) if s["failed"][i] > 0), default=None)
    h["last failure (s after fault end)"] = math.nan if last_fail is None else last_fail + 1 - fault_end
    # back to normal, robust to the host's noise in p99: the median under twice its baseline
    # and no failure, 3 windows in a row; and the p99 back under 1 s for 3 windows
    base_p50 = h["baseline p50 (ms)"]
    h["recovered: p50 < 2x base, no failure, 3 s (s after fault end)"] = first_run(
        after, horizon, lambda j: s["failed"][j] == 0 and not (s["p50"][j] > 2 * base_p50)) - fault_end
    h["recovered: p99 < 1 s, 3 s (s after fault end)"] = first_run(
        after, horizon, lambda j: not (s["p99"][j] >= 1000.0)) - fault_end
    for tier in TIERS:
        full = next((i for i in range(int(fault_at), horizon) if s[f"busy_{tier}"][i] >= 0.9 * threads[tier]), None)
        h[f"{tier} pool >= 90 % busy (s after fault start)"] = math.nan if full is None else full - fault_at
        h[f"{tier} busy threads, fault mean"] = mean([s[f"busy_{tier}"][i] for i in fault])
    return h


def fmt(x):
    if isinstance(x, float) and math.isnan(x):
        return "—"
    if isinstance(x, float):
        return f"{x:.1f}" if abs(x) < 1000 else f"{x:.0f}"
    return str(x)


def window_error(real, twin, key, rng):
    """Mean absolute per-second difference over rng."""
    diffs = [abs(real[key][i] - twin[key][i]) for i in rng if not math.isnan(real[key][i]) and not math.isnan(twin[key][i])]
    return mean(diffs)


def chart(series, path, fault_at, fault_end, horizon, threads, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    style = {"real": dict(color="black", lw=1.6), "reject": dict(color="tab:red", lw=1.1, ls="--"),
             "drop": dict(color="tab:blue", lw=1.1, ls="-.")}
    label = {"real": f"real ({title})", "reject": 'twin, when_full = "reject"', "drop": 'twin, when_full = "drop"'}
    fig, axes = plt.subplots(3, 2, figsize=(11, 9), sharex=True)
    panels = [("ok", "goodput (req/s)"), ("failed", "failed requests (/s)"), ("p99", "p99 of ok (ms, log)"),
              ("busy_front", "front busy threads"), ("busy_middle", "middle busy threads"), ("busy_db", "db busy threads")]
    t = list(range(horizon))
    for ax, (key, panel_title) in zip(axes.flat, panels):
        ax.axvspan(fault_at, fault_end, color="orange", alpha=0.15, lw=0)
        for side in SIDES:
            ax.plot(t, series[side][key], label=label[side], drawstyle="steps-post", **style[side])
        ax.set_title(panel_title, fontsize=10)
        ax.grid(alpha=0.3)
        if key == "p99":
            ax.set_yscale("log")
        if key.startswith("busy_"):
            ax.axhline(threads[key[5:]], color="grey", lw=0.8, ls=":")
    axes[0][0].legend(fontsize=8, loc="lower left")
    for ax in axes[-1]:
        ax.set_xlabel("s (db 10x slower in the shaded window)")
    fig.suptitle(f"Real three-tier chain ({title}) vs its cascade twin, per second", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("--docs", required=True)
    p.add_argument("--fault-at", type=float, required=True)
    p.add_argument("--fault-for", type=float, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--name", default="real-server-check", help="stem of the files written to --docs")
    p.add_argument("--title", default="gunicorn gthread", help="what the real side ran, for the chart")
    args = p.parse_args()
    horizon = int(args.duration) + 5
    fault_end = args.fault_at + args.fault_for

    real, meta = real_series(args.out, horizon)
    series = {"real": real}
    summaries = {}
    for side in ("reject", "drop"):
        series[side], summaries[side] = twin_series(os.path.join(args.out, f"twin-{side}"), horizon)
    threads = {t: summaries["reject"]["services"][t]["threads"] for t in TIERS}

    heads = {side: headline(series[side], args.fault_at, fault_end, horizon, threads) for side in SIDES}
    lines = [f"Real run: {meta['requests']} requests at {meta['rate']:g}/s for {meta['duration']:g} s; "
             f"db 10x slower during [{args.fault_at:g}, {fault_end:g}) s.", "",
             "| figure | real | twin reject | twin drop |", "|---|---:|---:|---:|"]
    for key in heads["real"]:
        lines.append(f"| {key} | " + " | ".join(fmt(heads[side][key]) for side in SIDES) + " |")
    rng = range(int(args.fault_at), horizon)
    base = range(10, int(args.fault_at))
    lines += ["", "Mean absolute per-second difference from the real series, from the fault's start to the end",
              "of the run (and, for scale, in the baseline before it, where it is Poisson noise alone):", "",
              "| series | twin reject | twin drop | baseline (either) |", "|---|---:|---:|---:|"]
    for key in ("ok", "failed", "busy_front", "busy_middle", "busy_db"):
        cells = [window_error(real, series[s], key, rng) for s in ("reject", "drop")]
        cells.append(window_error(real, series["reject"], key, base))
        lines.append(f"| {key} | " + " | ".join(fmt(c) for c in cells) + " |")
    kinds = {"real": {k: sum(real[k]) for k in ("timeout", "error", "refused", "reset")}}
    for side in ("reject", "drop"):
        e = summaries[side]["entries"]["clients"]["failed"]
        kinds[side] = dict(e)
        kinds[side]["connect_retries"] = {t: summaries[side]["services"][t].get("connect_retries", 0) for t in TIERS}
        kinds[side]["connect_timeouts"] = {t: summaries[side]["services"][t].get("connect_timeouts", 0) for t in TIERS}
    lines += ["", "Failures by kind over the whole run:", ""]
    for side in SIDES:
        lines.append(f"- {side}: {json.dumps(kinds[side])}")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(args.out, "comparison.md"), "w") as f:
        f.write(text)

    os.makedirs(os.path.join(args.docs, "img"), exist_ok=True)
    keys = ["arrivals", "ok", "failed", "p50", "p99"] + [f"busy_{t}" for t in TIERS]
    with open(os.path.join(args.docs, f"{args.name}-series.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["second"] + [f"{side}_{k}" for side in SIDES for k in keys])
        for i in range(horizon):
            w.writerow([i] + [fmt(float(series[side][k][i])) for side in SIDES for k in keys])
    chart(series, os.path.join(args.docs, "img", f"{args.name}.png"), args.fault_at, fault_end, horizon, threads, args.title)


if __name__ == "__main__":
    main()
