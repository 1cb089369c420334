#!/usr/bin/env python3
"""Draws the plots of BENCHMARKS.md from the benchmark output, as SVG.

Run (from the repository root, after the benches):

    python3 benches/plot.py [--results DIR] [--criterion DIR] [--out DIR] [--tables]

It reads what the harnesses write (python3's standard library only, no
plotting package):

    target/bench-results/executor_paired.json   -> executor_paired.svg
    target/bench-results/latency.json           -> latency.svg
    target/bench-results/queue_paired.json      -> queue_paired.svg
    target/criterion/**/new/estimates.json      -> criterion_executor.svg,
                                                   criterion_queue.svg

and writes the SVGs to benches/plots/. A missing input skips its plot, with
a note. `--tables` also prints the markdown tables BENCHMARKS.md shows.
"""
import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Colour-blind-safe palette (Okabe-Ito) and marker shapes, one per series.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
SHAPES = ["circle", "square", "diamond", "triangle", "circle", "square", "diamond"]

FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def log_ticks(lo, hi):
    """1-2-5 ticks covering [lo, hi] on a log axis (powers of ten alone when
    the axis spans more than three decades)."""
    ticks = []
    e = math.floor(math.log10(lo))
    steps = (1,) if math.log10(hi / lo) > 3 else (1, 2, 5)
    while 10 ** e <= hi * 1.0001:
        for m in steps:
            v = m * 10 ** e
            if lo / 1.0001 <= v <= hi * 1.0001:
                ticks.append(v)
        e += 1
    return ticks


def fmt_tick(v):
    if v >= 1:
        return f"{v:g}"
    return f"{v:.3g}"


def fmt_us(v):
    """A tick in microseconds, in the unit that reads best."""
    for unit, scale in (("s", 1e6), ("ms", 1e3), ("µs", 1.0), ("ns", 1e-3)):
        if v >= scale:
            return f"{v / scale:g} {unit}"
    return f"{v * 1e3:g} ns"


def marker(shape, x, y, colour, r=4.5):
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" fill="{colour}"/>'
    if shape == "diamond":
        r *= 1.25
        return (f'<polygon points="{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} '
                f'{x - r:.1f},{y:.1f}" fill="{colour}"/>')
    if shape == "triangle":
        r *= 1.2
        return (f'<polygon points="{x:.1f},{y - r:.1f} {x + r:.1f},{y + r * 0.8:.1f} '
                f'{x - r:.1f},{y + r * 0.8:.1f}" fill="{colour}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}"/>'


def dot_chart(title, subtitle, rows, series, axis_label, ref=None, ref_note=None,
              row_height=22, tick_fmt=fmt_tick):
    """A horizontal dot chart on a log x axis.

    rows: [(label, group)]; a blank gap separates groups.
    series: [(name, {row_index: (value, lo, hi) or [values...]})]; a tuple
    draws a point with a whisker from lo to hi, a list draws one marker per
    value joined by a line (percentiles).
    """
    values = []
    for _, pts in series:
        for v in pts.values():
            values.extend(x for x in (v if isinstance(v, list) else v) if x and x > 0)
    if ref:
        values.append(ref)
    lo, hi = min(values) / 1.25, max(values) * 1.25
    label_width = 20 + 6.8 * max(len(label) for label, _ in rows)
    plot_w = 520
    width = int(label_width + plot_w + 40)
    longest = max(len(name) for name, _ in series)
    columns = 3 if longest <= 28 else 2 if longest <= 48 else 1
    x0 = label_width + 10
    # Row positions, with a gap between groups.
    ys, y, prev = [], 70, None
    for label, group in rows:
        if prev is not None and group != prev:
            y += row_height * 0.6
        ys.append(y)
        y += row_height
        prev = group
    plot_bottom = y
    legend_y = plot_bottom + 48
    height = legend_y + 20 * ((len(series) + columns - 1) // columns) + 16

    def px(v):
        return x0 + (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * plot_w

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
           f'viewBox="0 0 {width} {height:.0f}" {FONT} font-size="12">',
           f'<rect width="100%" height="100%" fill="white"/>',
           f'<text x="12" y="22" font-size="15" font-weight="bold">{esc(title)}</text>',
           f'<text x="12" y="40" fill="#444">{esc(subtitle)}</text>']
    top = 70 - row_height / 2
    for t in log_ticks(lo, hi):
        x = px(t)
        out.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{plot_bottom - row_height / 2:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{plot_bottom + 6:.1f}" text-anchor="middle" fill="#444">{esc(tick_fmt(t))}</text>')
    out.append(f'<text x="{x0 + plot_w / 2:.1f}" y="{plot_bottom + 24:.1f}" text-anchor="middle">{esc(axis_label)}</text>')
    if ref:
        x = px(ref)
        out.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{plot_bottom - row_height / 2:.1f}" stroke="#888" stroke-dasharray="4 3"/>')
        if ref_note:
            out.append(f'<text x="{x + 4:.1f}" y="{top - 4:.1f}" fill="#444">{esc(ref_note)}</text>')
    for (label, _), y in zip(rows, ys):
        out.append(f'<text x="{label_width:.1f}" y="{y + 4:.1f}" text-anchor="end">{esc(label)}</text>')
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + plot_w}" y2="{y:.1f}" stroke="#f2f2f2"/>')
    # The series drawn on each row, in order: offset them a little so their
    # whiskers do not overlap.
    on_row = {}
    for k, (_, pts) in enumerate(series):
        for i in pts:
            on_row.setdefault(i, []).append(k)
    for k, (name, pts) in enumerate(series):
        colour, shape = COLOURS[k % len(COLOURS)], SHAPES[k % len(SHAPES)]
        for i, v in pts.items():
            n, j = len(on_row[i]), on_row[i].index(k)
            y = ys[i] + (j - (n - 1) / 2) * min(5.0, (row_height - 6) / n)
            if isinstance(v, list):
                xs = [px(x) for x in v if x > 0]
                out.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x in xs)}" '
                           f'fill="none" stroke="{colour}" stroke-width="1.5"/>')
                for j, x in enumerate(xs):
                    out.append(marker(SHAPES[j % len(SHAPES)], x, y, colour, 3.8))
            else:
                c, l, h = v
                if l and h:
                    out.append(f'<line x1="{px(l):.1f}" y1="{y:.1f}" x2="{px(h):.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2"/>')
                out.append(marker(shape, px(c), y, colour))
    for k, (name, pts) in enumerate(series):
        lx = 12 + (k % columns) * (width - 24) / columns
        ly = legend_y + 20 * (k // columns)
        colour, shape = COLOURS[k % len(COLOURS)], SHAPES[k % len(SHAPES)]
        if any(isinstance(v, list) for v in pts.values()):
            out.append(f'<line x1="{lx:.1f}" y1="{ly - 4:.1f}" x2="{lx + 16:.1f}" y2="{ly - 4:.1f}" stroke="{colour}" stroke-width="2"/>')
        else:
            out.append(marker(shape, lx + 8, ly - 4, colour))
        out.append(f'<text x="{lx + 22:.1f}" y="{ly:.1f}">{esc(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        print(f"skipped: {os.path.relpath(path, ROOT)} not found", file=sys.stderr)
        return None


def executor_plot(data):
    rows_in = data["rows"]
    peers = []
    for r in rows_in:
        if r["peer"] not in peers:
            peers.append(r["peer"])
    workers = sorted({r["workers"] for r in rows_in})
    rows = [(p, 0) for p in peers]
    series = []
    for w in workers:
        pts = {peers.index(r["peer"]): (r["ratio"], r["ci_lo"], r["ci_hi"])
               for r in rows_in if r["workers"] == w}
        series.append((f"{w} workers (median of the pairs, 95% interval)", pts))
    return dot_chart(
        "submit_collect_100k: peer time / our time",
        f"Alternating pairs ({data['rounds']} per Rust peer, {data['python_rounds']} against "
        "CPython); right of the dashed line, ours is faster",
        rows, series, "peer time / our time (log scale)", ref=1.0, ref_note="equal")


def latency_plot(data):
    rows_in = data["rows"]
    rows, pts = [], {}
    for r in rows_in:
        pts[len(rows)] = [r["p50_us"], r["p90_us"], r["p99_us"], r["p999_us"]]
        rows.append((f"{r['workers']} workers: {r['contender']}", r["workers"]))
    # One series per contender, so each keeps its colour across worker counts.
    names = []
    for r in rows_in:
        if r["contender"] not in names:
            names.append(r["contender"])
    series = []
    for n in names:
        series.append((n, {i: pts[i] for i, r in enumerate(rows_in) if r["contender"] == n}))
    svg = dot_chart(
        "Round trip (submit one no-op task, wait for its result): latency percentiles",
        f"Markers left to right: p50 (circle), p90 (square), p99 (diamond), p99.9 (triangle); "
        f"{rows_in[0]['samples']} round trips per row",
        rows, series, "round-trip time (log scale)", row_height=20, tick_fmt=fmt_us)
    return svg


def peer_column(peer):
    """The peer family of a queue contender: a bounded and an unbounded row
    of one crate share a column and a colour."""
    for prefix, column in (("crossbeam-channel", "crossbeam-channel"),
                           ("crossbeam", "crossbeam ArrayQueue / SegQueue"),
                           ("concurrent-queue", "concurrent-queue"),
                           ("flume", "flume"),
                           ("std mpsc", "std mpsc"),
                           ("ours", "control: ours / ours")):
        if peer.startswith(prefix):
            return column
    return peer


def queue_plot(data):
    rows_in = data["rows"]
    scen = []
    for r in rows_in:
        if r["scenario"] not in scen:
            scen.append(r["scenario"])
    peers = []
    for r in rows_in:
        if peer_column(r["peer"]) not in peers:
            peers.append(peer_column(r["peer"]))
    rows = [(s, s.split("/")[0].startswith(("pair", "fill")) and "single" or "threaded") for s in scen]
    series = []
    for p in peers:
        pts = {scen.index(r["scenario"]): (r["ratio"], r["ci_lo"], r["ci_hi"])
               for r in rows_in if peer_column(r["peer"]) == p}
        series.append((p, pts))
    return dot_chart(
        "Queues: our time / peer time, per scenario",
        f"Alternating pairs ({data['rounds']} per comparison); left of the dashed line, ours is "
        "faster; the control runs our queue against itself",
        rows, series, "our time / peer time (log scale)", ref=1.0, ref_note="equal",
        row_height=34)


def criterion_estimates(crit_dir):
    """{group: {function: (median_s, lo_s, hi_s)}} from criterion's output."""
    out = {}
    for dirpath, _, files in os.walk(crit_dir):
        if "estimates.json" not in files or os.path.basename(dirpath) != "new":
            continue
        bench_dir = os.path.dirname(dirpath)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        try:
            with open(os.path.join(dirpath, "benchmark.json")) as f:
                meta = json.load(f)
            group, func = meta["group_id"], meta.get("function_id") or meta.get("value_str") or ""
        except (FileNotFoundError, KeyError):
            rel = os.path.relpath(bench_dir, crit_dir).split(os.sep)
            group, func = "/".join(rel[:-1]), rel[-1]
        m = est["median"]
        ci = m["confidence_interval"]
        out.setdefault(group, {})[func] = (m["point_estimate"] / 1e9, ci["lower_bound"] / 1e9,
                                           ci["upper_bound"] / 1e9)
    return out


def criterion_plot(est, groups, title, family=lambda func: func):
    """One row per group and function, ours first; `family` names the
    series (colour) of a function."""
    rows, series_pts = [], {}
    ours_first = lambda kv: (not kv[0].startswith(("concurrent-futures", "ours")), kv[0])
    for g in groups:
        for func, v in sorted(est.get(g, {}).items(), key=ours_first):
            series_pts.setdefault(family(func), {})[len(rows)] = v
            rows.append((f"{g}: {func}", g))
    if not rows:
        return None
    # Normalise each row to microseconds for the axis.
    series = [(f, {i: tuple(x * 1e6 for x in v) for i, v in pts.items()})
              for f, pts in series_pts.items()]
    return dot_chart(title, "criterion's median and its 95% interval, one run, one contender after "
                     "the other (absolute times move with the machine's phase)",
                     rows, series, "time (log scale)", row_height=16, tick_fmt=fmt_us)


def fmt_s(v):
    """A time in seconds, three significant digits, in the unit that reads best."""
    v *= 1e6
    for unit, scale in (("s", 1e6), ("ms", 1e3), ("µs", 1.0)):
        if v >= scale:
            return f"{v / scale:.3g} {unit}"
    return f"{v * 1e3:.3g} ns"


def md_tables(exe, lat, que, est=None):
    if exe:
        print("| workers | peer | peer / ours | 95% interval | ours (median) | peer (median) |")
        print("|---|---|---|---|---|---|")
        for r in exe["rows"]:
            print(f"| {r['workers']} | {r['peer']} | **{r['ratio']:.2f}×** | {r['ci_lo']:.2f}–{r['ci_hi']:.2f} "
                  f"| {r['ours_median_s'] * 1e3:.1f} ms | {r['peer_median_s'] * 1e3:.1f} ms |")
        print()
    if lat:
        print("| workers | contender | p50 | p90 | p99 | p99.9 | p50 / our p50 |")
        print("|---|---|---|---|---|---|---|")
        ours = {r["workers"]: r["p50_us"] for r in lat["rows"] if r["contender"] == "concurrent-futures"}
        for r in lat["rows"]:
            us = [fmt_s(r[k] * 1e-6) for k in ("p50_us", "p90_us", "p99_us", "p999_us")]
            print(f"| {r['workers']} | {r['contender']} | " + " | ".join(us)
                  + f" | {r['p50_us'] / ours[r['workers']]:.2f} |")
        print()
    if que:
        peers = []
        for r in que["rows"]:
            if peer_column(r["peer"]) not in peers:
                peers.append(peer_column(r["peer"]))
        print("| scenario | " + " | ".join(peers) + " |")
        print("|---|" + "---|" * len(peers))
        by = {}
        for r in que["rows"]:
            by.setdefault(r["scenario"], {})[peer_column(r["peer"])] = r
        for s, cells in by.items():
            row = []
            for p in peers:
                r = cells.get(p)
                row.append(f"{r['ratio']:.2f} [{r['ci_lo']:.2f}–{r['ci_hi']:.2f}]" if r else "-")
            print(f"| {s} | " + " | ".join(row) + " |")
        print()
    if est:
        print("| workload | contender | median | 95% interval |")
        print("|---|---|---|---|")
        for g in ["submit_collect_100k", "round_trip", "cancel_pending", "collect_10k"]:
            for func, (m, lo, hi) in sorted(est.get(g, {}).items(), key=lambda kv: kv[1][0]):
                print(f"| {g} | {func} | {fmt_s(m)} | {fmt_s(lo)}–{fmt_s(hi)} |")
        print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", default=os.path.join(ROOT, "target", "bench-results"))
    ap.add_argument("--criterion", default=os.path.join(ROOT, "target", "criterion"))
    ap.add_argument("--out", default=os.path.join(HERE, "plots"))
    ap.add_argument("--tables", action="store_true", help="also print the markdown tables")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    def write(name, svg):
        if svg:
            path = os.path.join(args.out, name)
            with open(path, "w") as f:
                f.write(svg)
            print(f"wrote {os.path.relpath(path, ROOT)}")

    exe = load(os.path.join(args.results, "executor_paired.json"))
    lat = load(os.path.join(args.results, "latency.json"))
    que = load(os.path.join(args.results, "queue_paired.json"))
    if exe:
        write("executor_paired.svg", executor_plot(exe))
    if lat:
        write("latency.svg", latency_plot(lat))
    if que:
        write("queue_paired.svg", queue_plot(que))
    est = None
    if os.path.isdir(args.criterion):
        est = criterion_estimates(args.criterion)
        write("criterion_executor.svg", criterion_plot(
            est, ["submit_collect_100k", "round_trip", "cancel_pending", "collect_10k"],
            "Executor workloads under criterion (2 workers)"))
        qgroups = sorted(g for g in est if g.startswith(("pair/", "fill_drain_1k/")) or "P" in g.split("/")[0])
        write("criterion_queue.svg", criterion_plot(
            est, qgroups, "Queue workloads under criterion",
            family=lambda f: "ours" if f.startswith("ours") else peer_column(f)))
    else:
        print(f"skipped: {os.path.relpath(args.criterion, ROOT)} not found", file=sys.stderr)
    if args.tables:
        md_tables(exe, lat, que, est)


if __name__ == "__main__":
    main()
