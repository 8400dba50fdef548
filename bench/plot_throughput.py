#!/usr/bin/env python3
"""Draws requests/s per concurrency level, nethttp next to raw libcurl, as SVG.

Usage: plot_throughput.py DATA.tsv OUT.svg

DATA.tsv is what `nethttp_bench --data` writes: lines
"throughput<TAB>concurrency<TAB>nethttp_rps<TAB>raw_rps<TAB>ratio" (medians of
the rounds, and the median of the per-round ratios), and a "versions" line. Python standard library only, so the benchmark needs nothing extra.
"""

import math
import sys
from xml.sax.saxutils import escape

COLORS = {"nethttp": "#1f77b4", "raw libcurl": "#ff7f0e"}


def nice_ceiling(value):
    """A round number at or above value, for the top of the y axis."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * exp >= value:
            return step * exp
    return 10 * exp


def main(data_path, out_path):
    levels, versions = [], ""
    with open(data_path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "throughput" and len(parts) >= 4:
                nethttp, raw = float(parts[2]), float(parts[3])
                ratio = float(parts[4]) if len(parts) > 4 else nethttp / raw
                levels.append((int(parts[1]), nethttp, raw, ratio))
            elif parts[0] == "versions":
                versions = ", ".join(parts[1:])
    width, height = 760, 440
    left, right, top, bottom = 80, 20, 70, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    ymax = nice_ceiling(max([max(n, r) for _, n, r, _ in levels] or [1]) * 1.12)
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="26" text-anchor="middle" font-size="17" font-weight="bold">'
        "Small GETs on loopback nginx: requests/s per concurrency level</text>",
        f'<text x="{width / 2}" y="46" text-anchor="middle" fill="#555">'
        f"{escape(versions)}; medians of the rounds; on top: nethttp / raw, median of "
        "the per-round pairs</text>",
    ]
    ticks = 5
    for i in range(ticks + 1):
        value = ymax * i / ticks
        y = top + plot_h - plot_h * i / ticks
        svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                   f'stroke="#ddd"/>')
        svg.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}</text>')
    svg.append(f'<text x="18" y="{top + plot_h / 2}" text-anchor="middle" '
               f'transform="rotate(-90 18 {top + plot_h / 2})">requests/s</text>')
    group_w = plot_w / max(len(levels), 1)
    bar_w = min(60.0, group_w / 3)
    for i, (conc, nethttp, raw, ratio) in enumerate(levels):
        cx = left + group_w * (i + 0.5)
        for k, (name, value) in enumerate((("nethttp", nethttp), ("raw libcurl", raw))):
            x = cx - bar_w + k * bar_w
            h = plot_h * value / ymax
            y = top + plot_h - h
            svg.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                       f'fill="{COLORS[name]}"><title>{name}, c={conc}: {value:,.0f} requests/s'
                       f"</title></rect>")
            svg.append(f'<text x="{x + bar_w / 2 - 1:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                       f'font-size="11">{value:,.0f}</text>')
        top_y = top + plot_h - plot_h * max(nethttp, raw) / ymax
        svg.append(f'<text x="{cx:.1f}" y="{top_y - 20:.1f}" text-anchor="middle" '
                   f'font-weight="bold">{ratio:.3f}</text>')
        svg.append(f'<text x="{cx:.1f}" y="{top + plot_h + 20}" text-anchor="middle">'
                   f"c = {conc}</text>")
    svg.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
               f'y2="{top + plot_h}" stroke="#333"/>')
    svg.append(f'<text x="{left + plot_w / 2}" y="{height - 22}" text-anchor="middle">'
               "requests in flight at once (concurrency)</text>")
    lx = left + plot_w - 230
    for k, name in enumerate(COLORS):
        svg.append(f'<rect x="{lx + k * 120}" y="{height - 14}" width="12" height="12" '
                   f'fill="{COLORS[name]}"/>')
        svg.append(f'<text x="{lx + k * 120 + 17}" y="{height - 3}">{name}</text>')
    svg.append("</svg>")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
