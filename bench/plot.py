"""Turns the JSON results of bench/compare.rs into a plot and a Markdown table.

    python bench/plot.py OUT_DIR

Reads OUT_DIR/overhead.json and every OUT_DIR/export-*.json; writes OUT_DIR/records-per-second.png
and OUT_DIR/table.md (also printed).
"""

import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# The rate is averaged over a trailing window of this share of the run (at least 0.15 s), so
# that a slow run (2 requests/s, 2,500 records each) is not drawn as a comb of 0 and peaks.
WINDOW_SHARE = 1 / 40
MIN_WINDOW = 0.15


def load(path):
    with open(path) as f:
        return json.load(f)


def runs_of(export):
    """Every client run of one export result, b24 first."""
    return list(export.get("b24") or []) + list(export.get("fast_bitrix24") or [])


def rate_series(run):
    """(seconds since the first request, records served per second), smoothed; the window."""
    rows = run["timeline"]["rows"]
    if not rows:
        return [], [], MIN_WINDOW
    # t = 0 at the last sample before the client's first request (the peer starts Python first).
    start = 0
    for i, row in enumerate(rows):
        if row[2] > 0:
            start = max(i - 1, 0)
            break
    rows = rows[start:]
    t0 = rows[0][0]
    window = max((rows[-1][0] - t0) * WINDOW_SHARE, MIN_WINDOW)
    xs, ys = [], []
    j = 0
    for t, served, _, _ in rows:
        while rows[j][0] < t - window:
            j += 1
        dt = t - rows[j][0]
        if dt > 0:
            xs.append(t - t0)
            ys.append((served - rows[j][1]) / dt)
    return xs, ys, window


def label(run):
    name = run.get("client", "?")
    if run.get("error"):
        name += " - failed"
    return name


def plot(exports, path):
    fig, axes = plt.subplots(len(exports), 1, figsize=(10, 4.2 * len(exports)), squeeze=False)
    # One colour per client setting, the same in every panel.
    names = []
    for export in exports:
        for run in runs_of(export):
            if run.get("client") not in names:
                names.append(run.get("client"))
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colour = {name: palette[i % len(palette)] for i, name in enumerate(names)}
    for ax, export in zip(axes[:, 0], exports):
        scale = export["time_scale"]
        bucket = export["bucket"]
        steady = bucket["drain_per_emulated_second"] * scale * export["records_per_request"]
        windows = []
        for run in runs_of(export):
            xs, ys, window = rate_series(run)
            windows.append(window)
            c = colour[run.get("client")]
            ours = run.get("client", "").startswith("b24")
            ax.plot(xs, ys, label=label(run), color=c, linewidth=1.8 if ours else 1.2,
                    zorder=3 if ours else 2)
            if run.get("error") and xs:
                ax.plot([xs[-1]], [ys[-1]], "x", color=c, markersize=12)
        ax.axhline(steady, color="grey", linestyle="--", linewidth=1,
                   label=f"bucket limit after the burst ({steady:,.0f} records/s)")
        ax.set_title(
            f"Export of {export['records']:,} crm.item records, bucket "
            f"{bucket['capacity']:.0f} + {bucket['drain_per_emulated_second']:g}/s, "
            f"time scale {scale:g} (1 real s = {scale:g} emulated s)"
            + (f", {export['latency_ms']} ms latency" if export.get("latency_ms") else "")
        )
        ax.set_xlabel("real seconds since the first request")
        ax.set_ylabel(f"records/s served ({max(windows, default=MIN_WINDOW):.2g} s window)")
        if export["min_seconds_emulated"] > 0:
            # A bucket-bound run: show the steady part; the burst of the first seconds is cut.
            ax.set_ylim(0, steady * 3)
            ax.text(0.01, 0.97, "y axis cut at 3x the bucket limit (the burst of the first "
                    "seconds goes higher)", transform=ax.transAxes, fontsize=8, va="top")
        else:
            ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(overhead, exports):
    lines = []
    if overhead:
        lines += [
            f"| `crm.item.get` on the emulator, {overhead['rounds']} rounds of "
            f"{overhead['calls_per_round']:,} calls | wall µs/call, best | CPU µs/call, best |",
            "|---|---:|---:|",
            f"| raw reqwest + serde_json | {overhead['raw_best_us']:.1f} "
            f"| {overhead['raw_cpu_best_us']:.1f} |",
            f"| b24 generated `call` | {overhead['b24_best_us']:.1f} "
            f"| {overhead['b24_cpu_best_us']:.1f} |",
            f"| ratio b24 / raw | {overhead['ratio_best']:.3f} (median round: "
            f"{overhead['ratio_median']:.3f}) | {overhead['ratio_cpu_best']:.3f} |",
            "",
        ]
    lines += [
        "| records | time scale | client | time (real s) | emulated s | bucket minimum (emulated s) "
        "| time / minimum | time / b24 | HTTP requests | 503s sent | 503s reaching the caller "
        "| lost | duplicated |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for export in exports:
        scale = export["time_scale"]
        minimum = export["min_seconds_emulated"]
        # Ratios are to the first b24 run: the export with its default settings.
        b24_seconds = next((r["seconds"] for r in export.get("b24") or []), None)
        for run in runs_of(export):
            seconds = run["seconds"]
            emulated = seconds * scale
            failed = run.get("error")
            if failed:
                vs_min = vs_b24 = "failed"
            else:
                vs_min = f"{emulated / minimum:.3f}" if minimum > 0 else "within the burst"
                vs_b24 = f"{seconds / b24_seconds:.2f}" if b24_seconds else "-"
            reaching = run.get("503_reaching_caller")
            if reaching is None:
                reaching = "fatal error" if failed else "0 (retried inside)"
            latency = export.get("latency_ms")
            setting = f"{scale:g}" + (f" (+{latency} ms latency)" if latency else "")
            lines.append(
                f"| {export['records']:,} | {setting} | {run['client']} | {seconds:.2f} | "
                f"{emulated:.1f} | {minimum:.1f} | {vs_min} | {vs_b24} | {run['requests']} | "
                f"{run['refused_503']} | {reaching} | {run['lost']:,} | {run['duplicated']:,} |"
            )
    for export in exports:
        for run in runs_of(export):
            if run.get("error") or run.get("errors"):
                lines.append("")
                lines.append(
                    f"{export['records']:,} records, {run['client']}: "
                    f"{run.get('error') or '; '.join(run.get('errors'))}"
                )
    return "\n".join(lines) + "\n"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "bench/out"
    overhead_path = os.path.join(out, "overhead.json")
    overhead = load(overhead_path) if os.path.exists(overhead_path) else None
    exports = sorted(
        (load(p) for p in glob.glob(os.path.join(out, "export-*.json"))),
        key=lambda e: (e["records"], -e["time_scale"]),
    )
    if exports:
        plot(exports, os.path.join(out, "records-per-second.png"))
    text = table(overhead, exports)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
