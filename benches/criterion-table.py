#!/usr/bin/env python3
"""Prints the Markdown table of BENCHMARKS.md from criterion's estimates of benches/maps.rs:
ns per operation (criterion's median per iteration, divided by n) for each peer, and gomap's
ratios. The batched peers (gomap-batch: `get_batch` or `extend`) exist only in the insert and
lookup groups; their ratios are to hashbrown's and gomap's plain loops. Run after
`cargo bench --bench maps`:

    python3 benches/criterion-table.py [target/criterion]
"""
import json, os, sys
root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
peers = ["std", "hashbrown", "griddle", "gomap", "gomap-foldhash", "gomap-batch",
         "gomap-foldhash-batch"]
wl = ["insert", "insert-hint", "lookup-hit", "lookup-miss", "remove", "iterate", "mixed-80-10-10"]
keys = ["u64-random", "u64-sequential", "str16-boxed", "str16-string"]
print("| keys | n | workload | " + " | ".join(peers)
      + " | gomap ÷ hashbrown | gomap ÷ griddle | gomap ÷ std | batch ÷ hashbrown | batch ÷ gomap |")
print("|---|---:|---|" + "---:|" * len(peers) + "---:|---:|---:|---:|---:|")
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
            r = lambda a, o: f"{v[a] / v[o]:.2f}" if a in v and o in v else "-"
            print(f"| {k} | {n:,} | {w} | {cells} | {r('gomap', 'hashbrown')} | {r('gomap', 'griddle')}"
                  f" | {r('gomap', 'std')} | {r('gomap-batch', 'hashbrown')} | {r('gomap-batch', 'gomap')} |")
