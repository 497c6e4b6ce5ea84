#!/usr/bin/env bash
# Go side by side: runs the same workloads on Go 1.19's map (with its AES hash, and with
# GODEBUG=cpu.aes=off, the portable hash gomap implements) and on gomap, hashbrown and
# griddle, then prints one table with the ratios.
#
#   benches/go/compare.sh [--runs N] [--sizes 1000,100000,1000000]
#   benches/go/compare.sh --latency [N]    # worst-case insert latency: Rust peers, then Go
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=5
sizes=1000,100000,1000000
latency=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --latency)
      latency=4194304; shift
      if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then latency=$1; shift; fi ;;
    *) echo "usage: $0 [--runs N] [--sizes A,B,C] | --latency [N]" >&2; exit 2 ;;
  esac
done
GO=$(scripts/go-toolchains 1.19 | cut -d" " -f2)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(cd benches/go && "$GO" build -o "$out/gobench" .)
if [ "$latency" -gt 0 ]; then
  cargo bench -q --bench latency -- --n "$latency"
  "$out/gobench" -latency "$latency"
  GODEBUG=cpu.aes=off "$out/gobench" -latency "$latency"
  exit 0
fi
"$out/gobench" -runs "$runs" -sizes "$sizes" > "$out/go-aes.jsonl"
GODEBUG=cpu.aes=off "$out/gobench" -runs "$runs" -sizes "$sizes" > "$out/go-noaes.jsonl"
cargo bench -q --bench compare -- --runs "$runs" --sizes "$sizes" > "$out/rust.jsonl"
python3 - "$out"/go-aes.jsonl "$out"/go-noaes.jsonl "$out"/rust.jsonl <<'PY'
import json, sys
rows = {}
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)
        rows.setdefault((r["keys"], r["n"], r["workload"]), {})[r["impl"]] = r["ns_per_op"]
# gomap's batched rows have no counterpart in the other maps: their plain loop stands in.
plain = {"insert-extend": "insert", "lookup-hit-batch": "lookup-hit", "lookup-miss-batch": "lookup-miss"}
for (keys, n, w), v in rows.items():
    if w in plain:
        for i, x in rows.get((keys, n, plain[w]), {}).items():
            if not i.startswith("gomap"):
                v.setdefault(i, x)
impls = ["gomap", "gomap-foldhash", "hashbrown", "griddle", "go-aes", "go-noaes"]
others = ["hashbrown", "griddle", "go-aes", "go-noaes"]
print("ns/op; ratios are gomap / other (below 1: gomap is faster); in the rows of gomap's")
print("batched operations (insert-extend, lookup-*-batch) the other maps' figures are their plain loops")
print(f'{"keys":<15}{"n":>8} {"workload":<18}' + "".join(f"{i:>15}" for i in impls)
      + "".join(f'{"÷" + o:>12}' for o in others))
for (keys, n, w), v in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
    g = v.get("gomap")
    cells = "".join(f'{v[i]:>15.1f}' if i in v else f'{"-":>15}' for i in impls)
    rat = lambda o: f'{g / v[o]:.2f}' if g and o in v and v[o] else "-"
    print(f"{keys:<15}{n:>8} {w:<18}{cells}" + "".join(f"{rat(o):>12}" for o in others))
PY
