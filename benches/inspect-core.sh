#!/usr/bin/env bash
# map-inspect on a core file of a Go process holding a map of N entries (default 1e6):
# wall time and peak memory of `maps`, of `dump VAR --format json`, of `check VAR` (every
# key hashed with the runtime's hash) and of `get VAR KEY`.
#
#   benches/inspect-core.sh [N] [GO_VERSION]      (defaults: 1000000 1.22)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
V="${2:-1.22}"
GO="$(ls -d "${GOMAP_GO_CACHE:-$HOME/.cache/gomap-go}"/go-"$V"*/go/bin/go | tail -1)"
OUT=target/tmp/inspect-core-bench
mkdir -p "$OUT"
cargo build -q --release -p map-inspect
(cd tests/go-inspect && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$GO" build -o "../../$OUT/go-inspect" .)
# The program waits for a line on its standard input, the coproc pipe this script holds.
coproc PROG { exec "$OUT/go-inspect" big "$N"; }
read -r line <&"${PROG[0]}"
pid=$(echo "$line" | sed 's/[^0-9]//g')
gcore -o "$OUT/core" "$pid" >/dev/null 2>&1
kill "$pid" 2>/dev/null || true
core="$OUT/core.$pid"
echo "Go $V, main.huge map[uint64]string with $N entries; core file $(du -h --apparent-size "$core" | cut -f1)"
for run in 1 2 3; do
  /usr/bin/time -f "maps: %e s wall, %M KiB peak RSS" target/release/map-inspect maps --core "$core" >/dev/null
  /usr/bin/time -f "dump main.huge --format json: %e s wall, %M KiB peak RSS" \
    target/release/map-inspect dump --core "$core" main.huge --format json >/dev/null
  /usr/bin/time -f "check main.huge: %e s wall, %M KiB peak RSS" \
    target/release/map-inspect check --core "$core" main.huge >/dev/null
  /usr/bin/time -f "get main.huge 2654435761: %e s wall, %M KiB peak RSS" \
    target/release/map-inspect get --core "$core" main.huge 2654435761 >/dev/null
done 2>&1
rm -f "$core"
