#!/usr/bin/env bash
# map-inspect --format html on maps of N entries (default 1e5): the time and peak memory to
# write the page, its size, and the time headless Chromium takes to draw it
# (benches/html-load.py: median of 5 loads). Three maps: the demo (a gomap map[uint64]uint64
# of N keys, caught at the start of its next grow: old and new arrays), a Go 1.27 Swiss
# map[uint64]string of N entries read from a live process, and the replay of
# examples/grow.script.
#
#   benches/html-page.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
GO="$(ls -d "${GOMAP_GO_CACHE:-$HOME/.cache/gomap-go}"/go-1.27*/go/bin/go | tail -1)"
OUT=target/tmp/html-page-bench
mkdir -p "$OUT"
cargo build -q --release -p map-inspect
MI=target/release/map-inspect
(cd tests/go-inspect && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$GO" build -o "../../$OUT/go-inspect" .)
echo "$(chromium --version 2>/dev/null); $(nproc) cores"
/usr/bin/time -f "demo --keys $N --format html: %e s wall, %M KiB peak RSS" \
  "$MI" dump --keys "$N" --format html -o "$OUT/classic.html" 2>&1 | grep -v '^map-inspect: wrote'
# The program waits for a line on its standard input, the coproc pipe this script holds.
coproc PROG { exec "$OUT/go-inspect" big "$N"; }
read -r line <&"${PROG[0]}"
pid=$(echo "$line" | sed 's/[^0-9]//g')
/usr/bin/time -f "Go 1.27 main.huge ($N entries) --format html: %e s wall, %M KiB peak RSS" \
  "$MI" dump --pid "$pid" main.huge --format html -o "$OUT/swiss.html" 2>&1 | grep -v '^map-inspect: wrote'
kill "$pid" 2>/dev/null || true
"$MI" replay examples/grow.script --format html -o "$OUT/replay.html" 2>/dev/null
python3 benches/html-load.py --runs 5 "$OUT/classic.html" "$OUT/swiss.html" "$OUT/replay.html"
