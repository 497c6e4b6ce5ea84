#!/usr/bin/env python3
"""Prints the Markdown table of BENCHMARKS.md from criterion's estimates of benches/maps.rs:
ns per operation (criterion's median per iteration, divided by n) for each peer, and gomap's
ratios. Run after `cargo bench --bench maps`:

    python3 benches/criterion-table.py [target/criterion]
"""
import json, os, sys
root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
peers = ["std", "hashbrown", "griddle", "gomap", "gomap-foldhash"]
wl = ["insert", "insert-hint", "lookup-hit", "lookup-miss", "remove", "iterate", "mixed-80-10-10"]
keys = ["u64-random", "u64-sequential", "str16-boxed", "str16-string"]
print("| keys | n | workload | " + " | ".join(peers) + " | gomap ÷ hashbrown | gomap ÷ std |")
print("|---|---:|---|" + "---:|" * len(peers) + "---:|---:|")
for k in keys:
    for n in [1000, 100000, 1000000]:
        for w in wl:
            d = os.path.join(root, f"{w}_{k}_{n}")
            if not os.path.isdir(d):
                continue
            v = {}
            for p in peers:
                f = os.path.join(d, p, "new", "estimates.json")
                if os.path.exists(f):
                    v[p] = json.load(open(f))["median"]["point_estimate"] / n
            cells = " | ".join(f"{v[p]:.1f}" if p in v else "-" for p in peers)
            r = lambda o: f"{v['gomap'] / v[o]:.2f}" if "gomap" in v and o in v else "-"
            print(f"| {k} | {n:,} | {w} | {cells} | {r('hashbrown')} | {r('std')} |")
