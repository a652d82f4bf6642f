#!/usr/bin/env python3
"""Summarises a jmh-ab.sh run: per benchmark (and JMH parameters), each jar's median of its forks'
mean scores, and each jar against a reference jar: the ratio per round (of the rounds' fork means)
and a Mann-Whitney test over the forks (if scipy is installed).

    jmh-ab-summary.py DIR TAG REFERENCE_NAME
"""
import collections
import glob
import os
import re
import statistics as st
import sys

if len(sys.argv) != 4:
    sys.exit(__doc__)
out_dir, tag, ref = sys.argv[1:]
forks = collections.defaultdict(lambda: collections.defaultdict(list))  # bench -> jar -> [(round, fork mean)]
for path in glob.glob(os.path.join(out_dir, f"{tag}-*-*.log")):
    name, rnd = os.path.basename(path)[len(tag) + 1:-4].rsplit("-", 1)
    bench, cur = None, None
    for line in open(path):
        m = re.match(r"# Benchmark: (\S+)", line)
        if m:
            bench = m.group(1).rsplit(".", 2)[-2] + "." + m.group(1).rsplit(".", 1)[-1]
        m = re.match(r"# Parameters: \((.*)\)", line)
        if m:
            bench = bench.split(" ")[0] + " " + m.group(1)
        if line.startswith("# Fork:"):
            if cur:
                forks[bench][name].append((int(rnd), st.mean(cur)))
            cur = []
        m = re.match(r"Iteration\s+\d+: ([\d.]+)", line)
        if m and cur is not None:
            cur.append(float(m.group(1)))
        if line.startswith("Result") and cur:
            forks[bench][name].append((int(rnd), st.mean(cur)))
            cur = None
try:
    from scipy.stats import mannwhitneyu
except ImportError:
    mannwhitneyu = None
for bench, jars in sorted(forks.items()):
    print(bench)
    for name, xs in sorted(jars.items()):
        v = [x for _, x in xs]
        print(f"  {name:12s} forks {len(v):2d}  median {st.median(v):.4g}  [{min(v):.4g}-{max(v):.4g}]")
    if ref not in jars:
        continue
    for name, xs in sorted(jars.items()):
        if name == ref:
            continue
        ratios = []
        for r in sorted({r for r, _ in xs}):
            a = [x for q, x in xs if q == r]
            b = [x for q, x in jars[ref] if q == r]
            if a and b:
                ratios.append(st.mean(a) / st.mean(b))
        p = ""
        if mannwhitneyu:
            p = f"  p = {mannwhitneyu([x for _, x in xs], [x for _, x in jars[ref]]).pvalue:.2f}"
        print(f"  {name}/{ref} per round {[round(x, 3) for x in ratios]}  median {st.median(ratios):.3f}{p}")
