#!/usr/bin/env python3
"""Draws bench/throughput.svg (throughput by message size) from BenchmarkDotNet's CSV reports.

Usage: python3 bench/chart.py [RESULTS_DIR]   (default: BenchmarkDotNet.Artifacts/results)
Standard library only: the SVG is written by hand.
"""
import csv
import glob
import math
import os
import re
import sys

results = sys.argv[1] if len(sys.argv) > 1 else "BenchmarkDotNet.Artifacts/results"
here = os.path.dirname(os.path.abspath(__file__))


def nanoseconds(text):
    value, unit = re.match(r"([\d.,]+)\s*(\w+)", text.replace(",", "")).groups()
    return float(value) * {"ns": 1, "us": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9}[unit]


series = {}
for path in glob.glob(os.path.join(results, "*AeadBenchmarks-report.csv")) + glob.glob(os.path.join(results, "*RecordPathBenchmarks-report.csv")):
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            size = int(row["Size"])
            size = 65536 if size == 65518 else size  # the largest record payload, drawn with the 64 KiB messages
            name = row["Method"].strip("'")
            if "Suite" in row:
                name = f"{name} [{row['Suite']}]"
            # Seal + open of `size` bytes: count the bytes once, as one direction of a channel would.
            series.setdefault(name, []).append((size, size / nanoseconds(row["Mean"]) * 1e3))  # MB/s

if not series:
    sys.exit(f"no AeadBenchmarks or RecordPathBenchmarks reports in {results}")

width, height, left, bottom, top, right = 1100, 520, 70, 80, 30, 480
sizes = sorted({s for points in series.values() for s, _ in points})
peak = max(v for points in series.values() for _, v in points)
ceiling = 10 ** math.ceil(math.log10(peak))
ceiling = ceiling / 2 if peak < ceiling / 2 else ceiling
plot_w, plot_h = width - left - right, height - top - bottom
x = lambda size: left + sizes.index(size) * plot_w / max(len(sizes) - 1, 1)
y = lambda value: top + plot_h * (1 - value / ceiling)
colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
       f'<rect width="{width}" height="{height}" fill="white"/>',
       f'<text x="{left}" y="18" font-size="14">Seal + open throughput by message size (MB/s of plaintext, higher is better)</text>']
for i in range(6):
    value = ceiling * i / 5
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{left - 8}" y="{y(value) + 4:.1f}" text-anchor="end">{value:,.0f}</text>')
for size in sizes:
    label = f"{size // 1024} KiB" if size >= 1024 else f"{size} B"
    out.append(f'<text x="{x(size):.1f}" y="{top + plot_h + 20}" text-anchor="middle">{label}</text>')
out.append(f'<text x="{left}" y="{height - 20}" fill="#555">Record rows at 64 KiB carry 65,518 bytes (the largest record payload). Source: BenchmarkDotNet, one run, bench/README.md.</text>')
for index, (name, points) in enumerate(sorted(series.items())):
    colour = colours[index % len(colours)]
    points.sort()
    path = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in points)
    out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
    out += [f'<circle cx="{x(s):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>' for s, v in points]
    out.append(f'<rect x="{width - right + 15}" y="{top + index * 22}" width="12" height="12" fill="{colour}"/>')
    out.append(f'<text x="{width - right + 32}" y="{top + index * 22 + 11}">{name}</text>')
out.append("</svg>")
with open(os.path.join(here, "throughput.svg"), "w", encoding="utf-8") as f:
    f.write("\n".join(out))
print(f"wrote {os.path.join(here, 'throughput.svg')} ({len(series)} series)")
