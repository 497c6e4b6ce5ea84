# gomap.py: gdb pretty-printers and commands for Go maps: Go 1.19's classic map, in gomap (Rust)
# and in real Go programs (Go 1.19-1.23, and 1.24-1.25 built with GOEXPERIMENT=noswissmap),
# and Go 1.24-1.27's Swiss-table maps.
#
# Loading
#   * Rust: the gomap crate embeds this file in every binary that links it with debug info
#     (`#![debugger_visualizer(gdb_script_file = ...)]`, section .debug_gdb_scripts). gdb runs it
#     when the binary is in its `auto-load safe-path`:
#         gdb -iex "add-auto-load-safe-path $PWD/target" target/debug/prog
#     (or `rust-gdb` with the same -iex, which adds Rust's own printers for &str, Vec, ...).
#   * Go: `source /path/to/gomap.py`. Go binaries auto-load $GOROOT/src/runtime/runtime-gdb.py,
#     whose classic map printer is stale (it misses keys during a grow and prints deleted and
#     evacuated slots) and whose Swiss map printer does not dereference indirect keys and elems.
#     Both register by type name in the objfile's printer list, where the first match wins;
#     runtime-gdb.py resets that list and then appends its printers. This script puts its
#     lookup at the front of every objfile's list: at once for objfiles already loaded (so
#     `gdb -ex 'source gomap.py' ./prog` wins immediately), and again after each new objfile
#     has been loaded (at gdb's next turn of its event loop: the next prompt, or when the
#     program runs), at every stop and before every prompt, so it also wins when sourced first
#     (-iex, gdbinit). Only a batch session that sources it first and prints without ever
#     running the program (a core file) must source it after the binary instead.
#   * The rule for every printer here: a type this script does not know exactly (a map header
#     whose fields are not the ones of a layout below, a future Go's) is not ours: the lookup
#     returns None and the next printer (Go's) prints it. Only a map whose layout is known and
#     whose memory is wrong (a corrupt header, a wild pointer) prints `<gomap: error: ...>`.
#
# What it provides
#   print m                         a GoMap, a Go map[K]V (or *m: hash<K,V> or map<K,V>):
#                                   summary + entries
#   print m.raw.h / print *h        the classic header (gomap::layout::Hmap, runtime.hmap)
#   print b                         a bucket (gomap::view::BucketView, Go's bucket<K,V>)
#   gomap info EXPR                 header, flags, layout and grow progress; for a Swiss map
#                                   the header, the directory and every table's fields
#   gomap buckets EXPR [--old]      every bucket of a classic map, slot by slot
#   gomap buckets EXPR [TABLE]      every group of a Swiss map (or of one table), slot by slot
#   gomap hexdump EXPR [BUCKET] [--old]
#   gomap hexdump EXPR [TABLE [GROUP]]
#                                   labelled hex of the header and bucket (group) memory
#   gomap constants                 the layout constants this script assumes, as JSON
#   set gomap-max-buckets N         how many buckets (groups) one walk may visit (default 65536)
#
# Everything is read from raw memory with the layout rules of gomap::layout (the header by
# offset, buckets by the bucket layout), so the same code reads a GoMap and a Go map. The
# numbers below restate gomap::layout; inspect/tests/gdb.rs checks that the two agree.
#
# Correctness during a grow: evacuation marks each old slot (EVACUATED_X/Y/EMPTY) before it
# copies the entry to the current array, and every write evacuates the old bucket of its key
# before it touches the current array. So an old slot whose tophash is still live
# (>= MIN_TOP_HASH) holds an entry that is nowhere else, and every other entry is in the current
# array: the live entries are the live slots of every chain of the current array plus the live
# slots of every old chain. (For a consistent map that is the same as skipping the old buckets
# whose first tophash is an evacuation mark, Go's evacuated(b); slot by slot, it is also right
# when the program stopped inside evacuate.) EMPTY_ONE, EMPTY_REST and the EVACUATED_* states
# are never entries.
#
# Errors: a corrupt header, a wild pointer or a cyclic chain prints `<gomap: error: ...>` (the
# commands print `gomap: error: ...`); walks stop after `gomap-max-buckets` buckets. No Python
# traceback reaches the user.
#
# All top-level names start with gomap_ / Gomap / GOMAP_: gdb runs auto-loaded scripts in one
# shared namespace (Go's runtime-gdb.py defines lookup_type, MapTypePrinter, ...).

import json
import re

import gdb
import gdb.printing

# ---------------------------------------------------------------------------------------------
# The layout model: constants of gomap::layout (Go's runtime/map.go names in comments).

GOMAP_PTR_SIZE = 8  # 64-bit little-endian targets only (Go's and gomap's tested layout)
GOMAP_BUCKET_CNT_BITS = 3  # bucketCntBits
GOMAP_BUCKET_CNT = 8  # bucketCnt
GOMAP_LOAD_FACTOR_NUM = 13  # loadFactorNum
GOMAP_LOAD_FACTOR_DEN = 2  # loadFactorDen
GOMAP_MAX_KEY_SIZE = 128  # maxKeySize
GOMAP_MAX_ELEM_SIZE = 128  # maxElemSize
GOMAP_DATA_OFFSET = 8  # dataOffset
GOMAP_MAX_INLINE_ALIGN = 8  # gomap only: a more aligned Rust type is stored indirectly

GOMAP_EMPTY_REST = 0  # emptyRest
GOMAP_EMPTY_ONE = 1  # emptyOne
GOMAP_EVACUATED_X = 2  # evacuatedX
GOMAP_EVACUATED_Y = 3  # evacuatedY
GOMAP_EVACUATED_EMPTY = 4  # evacuatedEmpty
GOMAP_MIN_TOP_HASH = 5  # minTopHash

GOMAP_FLAGS = [  # hmap.flags bits, in bit order
    (1, "ITERATOR"),  # iterator
    (2, "OLD_ITERATOR"),  # oldIterator
    (4, "HASH_WRITING"),  # hashWriting
    (8, "SAME_SIZE_GROW"),  # sameSizeGrow
]
GOMAP_FLAG_HASH_WRITING = 4
GOMAP_FLAG_SAME_SIZE_GROW = 8

GOMAP_TOPHASH_NAMES = {
    GOMAP_EMPTY_REST: "EMPTY_REST",
    GOMAP_EMPTY_ONE: "EMPTY_ONE",
    GOMAP_EVACUATED_X: "EVACUATED_X",
    GOMAP_EVACUATED_Y: "EVACUATED_Y",
    GOMAP_EVACUATED_EMPTY: "EVACUATED_EMPTY",
}

# hmap: (name, offset, size)
GOMAP_HMAP_FIELDS = [
    ("count", 0, 8),
    ("flags", 8, 1),
    ("B", 9, 1),
    ("noverflow", 10, 2),
    ("hash0", 12, 4),
    ("buckets", 16, 8),
    ("oldbuckets", 24, 8),
    ("nevacuate", 32, 8),
    ("extra", 40, 8),
]
GOMAP_HMAP_SIZE = 48
# mapextra: (name, offset, size)
GOMAP_MAPEXTRA_FIELDS = [
    ("overflow", 0, 8),
    ("oldoverflow", 8, 8),
    ("nextOverflow", 16, 8),
]
GOMAP_MAPEXTRA_SIZE = 24

# Go's malloc size classes (runtime/sizeclasses.go, Go 1.19), used by makeBucketArray to decide
# how many overflow buckets to preallocate.
GOMAP_MAX_SMALL_SIZE = 32768
GOMAP_PAGE_SIZE = 8192
GOMAP_CLASS_TO_SIZE = [
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288,
    320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536,
    1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192,
    9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576,
    27264, 28672, 32768,
]

# Largest span of user addresses on the supported targets: nothing bigger can be a bucket array.
GOMAP_MAX_ADDR = 1 << 47
GOMAP_DEFAULT_MAX_BUCKETS = 1 << 16
GOMAP_READ_CHUNK = 1 << 20  # bytes per read of a bucket array


def gomap_roundupsize(size):
    """Go's roundupsize: the block size Go's heap returns for `size` bytes."""
    if size < GOMAP_MAX_SMALL_SIZE:
        if size == 0:
            return 0
        for c in GOMAP_CLASS_TO_SIZE[1:]:
            if c >= size:
                return c
    return (size + GOMAP_PAGE_SIZE - 1) & ~(GOMAP_PAGE_SIZE - 1)


def gomap_flag_names(flags):
    """The set flags by name, joined by '|' ('0' when none); unknown bits in hex."""
    if flags == 0:
        return "0"
    names = [name for bit, name in GOMAP_FLAGS if flags & bit]
    unknown = flags & 0xF0
    if unknown:
        names.append("%#04x" % unknown)
    return "|".join(names)


def gomap_tophash_name(t):
    return GOMAP_TOPHASH_NAMES.get(t, "live")


def gomap_evacuated(tophash0):
    """Go's evacuated(b), from the bucket's first tophash byte."""
    return GOMAP_EMPTY_ONE < tophash0 < GOMAP_MIN_TOP_HASH


class GomapError(Exception):
    """A map that cannot be read: corrupt header, wild pointer, cyclic chain, bad type."""


class GomapTruncated(Exception):
    """A walk reached gomap-max-buckets."""


class GomapLayout:
    """Bucket layout (gomap::layout::BucketLayout): slot sizes, indirection, offsets."""

    def __init__(self, key_size, key_align, elem_size, elem_align, key_type=None,
                 elem_type=None, indirect_key=None, indirect_elem=None):
        if indirect_key is None:
            indirect_key = key_size > GOMAP_MAX_KEY_SIZE or key_align > GOMAP_MAX_INLINE_ALIGN
        if indirect_elem is None:
            indirect_elem = (elem_size > GOMAP_MAX_ELEM_SIZE
                             or elem_align > GOMAP_MAX_INLINE_ALIGN)
        self.key_size = key_size
        self.elem_size = elem_size
        self.indirect_key = indirect_key
        self.indirect_elem = indirect_elem
        self.keysize = GOMAP_PTR_SIZE if indirect_key else key_size
        self.elemsize = GOMAP_PTR_SIZE if indirect_elem else elem_size
        self.bucketsize = (GOMAP_DATA_OFFSET + GOMAP_BUCKET_CNT * self.keysize
                           + GOMAP_BUCKET_CNT * self.elemsize + GOMAP_PTR_SIZE)
        self.key_type = key_type
        self.elem_type = elem_type

    def key_offset(self, i):
        return GOMAP_DATA_OFFSET + i * self.keysize

    def elem_offset(self, i):
        return GOMAP_DATA_OFFSET + GOMAP_BUCKET_CNT * self.keysize + i * self.elemsize

    def overflow_offset(self):
        return self.bucketsize - GOMAP_PTR_SIZE

    def nbuckets(self, b):
        """Buckets makeBucketArray allocates for B=b: 2^b plus preallocated overflow buckets."""
        base = 1 << b
        n = base
        if b >= 4:
            n += 1 << (b - 4)
            sz = self.bucketsize * n
            up = gomap_roundupsize(sz)
            if up != sz:
                n = up // self.bucketsize
        return n

    def regions(self):
        """(offset, size, label) of every region of a bucket, in address order."""
        out = [(0, GOMAP_BUCKET_CNT, "tophash")]
        for i in range(GOMAP_BUCKET_CNT):
            out.append((self.key_offset(i), self.keysize, "key %d" % i))
        for i in range(GOMAP_BUCKET_CNT):
            out.append((self.elem_offset(i), self.elemsize, "elem %d" % i))
        out.append((self.overflow_offset(), GOMAP_PTR_SIZE, "overflow"))
        return [r for r in out if r[1] > 0]

    def describe(self):
        def one(what, t, size, indirect):
            name = str(t) if t is not None else "?"
            how = "indirect: a pointer in the slot" if indirect else "inline"
            return "%s %s (%d bytes, %s)" % (what, name, size, how)

        return "%s, %s, bucketsize %d" % (
            one("key", self.key_type, self.key_size, self.indirect_key),
            one("elem", self.elem_type, self.elem_size, self.indirect_elem),
            self.bucketsize)


# ---------------------------------------------------------------------------------------------
# Memory.

def gomap_check_target():
    try:
        ptr = gdb.lookup_type("void").pointer().sizeof
    except gdb.error:
        ptr = GOMAP_PTR_SIZE
    if ptr != GOMAP_PTR_SIZE:
        raise GomapError("only 64-bit targets are supported (pointers here are %d bytes)" % ptr)
    try:
        endian = gdb.execute("show endian", to_string=True)
    except gdb.error:
        endian = "little endian"
    if "big endian" in endian:
        raise GomapError("only little-endian targets are supported")


def gomap_read(addr, size):
    if addr <= 0 or addr + size > 1 << 64:
        raise GomapError("cannot read %d bytes at %#x" % (size, addr))
    try:
        return gdb.selected_inferior().read_memory(addr, size).tobytes()
    except (gdb.MemoryError, gdb.error, ValueError, OverflowError) as e:
        raise GomapError("cannot read %d bytes at %#x (%s)" % (size, addr, e))


def gomap_le(data, off, size):
    return int.from_bytes(data[off:off + size], "little")


def gomap_max_buckets():
    try:
        v = gdb.parameter("gomap-max-buckets")
    except (gdb.error, RuntimeError):
        v = None
    if v is None or v <= 0:
        return GOMAP_DEFAULT_MAX_BUCKETS
    return int(v)


class GomapHeader:
    """An hmap read from memory by offsets: gomap's (and Go 1.19's) by default, or the field
    offsets a Go binary's DWARF gives (Go 1.24-1.25 noswissmap: 56 bytes, clearSeq at 40)."""

    def __init__(self, addr, fields=None, size=None):
        self.addr = addr
        self.fields = fields if fields is not None else GOMAP_HMAP_FIELDS
        self.size = size if size is not None else GOMAP_HMAP_SIZE
        data = gomap_read(addr, self.size)
        self.raw = data
        self.clearSeq = None
        for name, off, size in self.fields:
            setattr(self, name, gomap_le(data, off, size))

    def growing(self):
        return self.oldbuckets != 0

    def same_size_grow(self):
        return bool(self.flags & GOMAP_FLAG_SAME_SIZE_GROW)

    def old_B(self):
        return self.B if self.same_size_grow() else self.B - 1

    def noldbuckets(self):
        return 1 << self.old_B()

    def validate(self, layout):
        """Raises GomapError when the header cannot describe a map."""
        if self.count >= 1 << 63:
            raise GomapError("count %d is negative as a Go int" % (self.count - (1 << 64)))
        if layout is not None and (1 << min(self.B, 64)) * layout.bucketsize > GOMAP_MAX_ADDR:
            raise GomapError("B=%d: 2^%d buckets of %d bytes cannot exist"
                             % (self.B, self.B, layout.bucketsize))
        for name in ("buckets", "oldbuckets", "extra"):
            p = getattr(self, name)
            if p % GOMAP_PTR_SIZE or p >= GOMAP_MAX_ADDR * 2:
                raise GomapError("%s = %#x is not a valid pointer" % (name, p))
        if self.buckets == 0 and self.count != 0:
            raise GomapError("count is %d but buckets is nil" % self.count)
        if self.buckets == 0 and self.oldbuckets != 0:
            raise GomapError("oldbuckets is set but buckets is nil")
        if self.growing():
            if self.old_B() < 0:
                raise GomapError("growing with B=0 and no SAME_SIZE_GROW flag")
            if self.nevacuate > self.noldbuckets():
                raise GomapError("nevacuate %d is beyond the %d old buckets"
                                 % (self.nevacuate, self.noldbuckets()))


class GomapWalker:
    """Reads buckets with a budget, and refuses to visit a bucket twice (cycle detection)."""

    def __init__(self, layout, budget=None):
        self.layout = layout
        self.budget = gomap_max_buckets() if budget is None else budget
        self.visited = set()

    def _take(self, addr):
        if addr in self.visited:
            raise GomapError("bucket %#x is reached twice: cyclic or shared overflow chain"
                             % addr)
        if self.budget <= 0:
            raise GomapTruncated()
        self.budget -= 1
        self.visited.add(addr)

    def array(self, base, n):
        """Yields (index, addr, bytes) for buckets 0..n-1 of the array at base."""
        bs = self.layout.bucketsize
        per = max(1, GOMAP_READ_CHUNK // bs)
        i = 0
        while i < n:
            k = min(per, n - i, max(self.budget, 1))
            data = gomap_read(base + i * bs, k * bs)
            for j in range(k):
                addr = base + (i + j) * bs
                self._take(addr)
                yield i + j, addr, data[j * bs:(j + 1) * bs]
            i += k

    def chain(self, addr, data):
        """Yields (addr, bytes) for the bucket at addr (already read) and its overflow chain."""
        bs = self.layout.bucketsize
        while True:
            yield addr, data
            ovf = gomap_le(data, self.layout.overflow_offset(), GOMAP_PTR_SIZE)
            if ovf == 0:
                return
            if ovf % GOMAP_PTR_SIZE or ovf >= GOMAP_MAX_ADDR * 2:
                raise GomapError("bucket %#x has a wild overflow pointer %#x" % (addr, ovf))
            self._take(ovf)
            data = gomap_read(ovf, bs)
            addr = ovf


# ---------------------------------------------------------------------------------------------
# Maps: where the header is, what K and V are.

class GomapMap:
    """A map in memory: header address, layout, and a label for output."""

    def __init__(self, hmap_addr, layout, label, kind, hmap_fields=None, hmap_size=None):
        self.hmap_addr = hmap_addr
        self.layout = layout
        self.label = label  # e.g. "GoMap<u64, u64>" or "map[string]int"
        self.kind = kind  # "gomap" or "go"
        self.hmap_fields = hmap_fields  # Go: (name, offset, size) from DWARF's hash<K,V>
        self.hmap_size = hmap_size

    def header(self):
        gomap_check_target()
        if self.hmap_addr == 0:
            raise GomapError("nil map")
        h = GomapHeader(self.hmap_addr, self.hmap_fields, self.hmap_size)
        h.validate(self.layout)
        return h

    def bucket_title(self, h, addr, head, depth, old, heap_ids, head_data):
        """The title of a bucket, as `map-inspect dump` writes it: an id (`main[i]`, `old[i]`,
        `heap#n` in the order met) and what the bucket is."""
        arr = "old" if old else "main"
        if depth == 0:
            ident = "%s[%d]" % (arr, head)
            if not old:
                return ident, "bucket %d of the current array" % head
            x = "main[%d]" % head
            y = None if h.same_size_grow() else "main[%d]" % (head + h.noldbuckets())
            if gomap_evacuated(head_data[0]):
                return ident, "bucket %d of the old array: evacuated to %s%s" % (
                    head, x, " (X) and %s (Y)" % y if y else "")
            return ident, ("bucket %d of the old array: not evacuated yet, its entries are "
                           "still here (will go to %s%s)" % (head, x, " / %s" % y if y else ""))
        chain = "overflow bucket %d in the chain of %s[%d]" % (depth, arr, head)
        bs = self.layout.bucketsize
        for base, b, name, which in ((h.buckets, h.B, "main", "current"),
                                     (h.oldbuckets, h.old_B(), "old", "old")):
            if not base or b < 0:
                continue
            n = self.layout.nbuckets(b)
            if base <= addr < base + n * bs and (addr - base) % bs == 0:
                i = (addr - base) // bs
                what = ("preallocated overflow bucket of the %s array, in use" % which
                        if i >= 1 << b else "bucket %d of the %s array" % (i, which))
                return "%s[%d]" % (name, i), "%s: %s" % (what, chain)
        n = heap_ids.setdefault(addr, len(heap_ids))
        return "heap#%d" % n, "heap overflow bucket, %s" % chain

    def live_slots(self, h, walker, collect):
        """Calls collect(bucket_addr, data, slot) for every live entry; see the file header."""
        if h.buckets == 0:
            return
        for _, addr, data in walker.array(h.buckets, 1 << h.B):
            for baddr, bdata in walker.chain(addr, data):
                for i in range(GOMAP_BUCKET_CNT):
                    if bdata[i] >= GOMAP_MIN_TOP_HASH:
                        collect(baddr, bdata, i)
        if h.growing():
            for _, addr, data in walker.array(h.oldbuckets, h.noldbuckets()):
                for baddr, bdata in walker.chain(addr, data):
                    for i in range(GOMAP_BUCKET_CNT):
                        if bdata[i] >= GOMAP_MIN_TOP_HASH:
                            collect(baddr, bdata, i)

    def slot_addrs(self, baddr, bdata, i):
        """(key address, elem address) of slot i, following indirect slots."""
        lay = self.layout
        k = baddr + lay.key_offset(i)
        e = baddr + lay.elem_offset(i)
        if lay.indirect_key:
            k = gomap_le(bdata, lay.key_offset(i), GOMAP_PTR_SIZE)
            if k == 0:
                raise GomapError("live slot %d of bucket %#x has a nil key pointer" % (i, baddr))
        if lay.indirect_elem:
            e = gomap_le(bdata, lay.elem_offset(i), GOMAP_PTR_SIZE)
            if e == 0:
                raise GomapError("live slot %d of bucket %#x has a nil elem pointer"
                                 % (i, baddr))
        return k, e

    def entries(self, h):
        """([(key addr, elem addr)], truncated?)."""
        out = []
        walker = GomapWalker(self.layout)

        def collect(baddr, bdata, i):
            out.append(self.slot_addrs(baddr, bdata, i))

        try:
            self.live_slots(h, walker, collect)
        except GomapTruncated:
            return out, True
        return out, False

    def evacuated_count(self, h):
        """How many old buckets carry an evacuation mark (None when not growing)."""
        if not h.growing():
            return None
        walker = GomapWalker(self.layout)
        n = 0
        for _, _, data in walker.array(h.oldbuckets, h.noldbuckets()):
            if gomap_evacuated(data[0]):
                n += 1
        return n

    def grow_text(self, h):
        if not h.growing():
            return None
        kind = "same-size" if h.same_size_grow() else "doubling"
        try:
            ev = self.evacuated_count(h)
            ev_text = "%d evacuated" % ev
        except GomapTruncated:
            ev_text = "evacuated: more than gomap-max-buckets old buckets"
        return "%s grow: nevacuate %d of %d old buckets, %s" % (
            kind, h.nevacuate, h.noldbuckets(), ev_text)

    def summary(self, h, found=None):
        parts = ["len=%d" % h.count, "B=%d" % h.B, "flags=%s" % gomap_flag_names(h.flags)]
        g = self.grow_text(h)
        if g:
            parts.append(g)
        if found is not None and found != h.count:
            note = "count is %d but %d live slots were found" % (h.count, found)
            if h.flags & GOMAP_FLAG_HASH_WRITING:
                note += " (HASH_WRITING: a write is in progress)"
            parts.append("WARNING: " + note)
        return "%s(%s)" % (self.label, ", ".join(parts))

    def value_at(self, addr, t):
        return gdb.Value(addr).cast(t.pointer()).dereference()


# ---------------------------------------------------------------------------------------------
# Swiss-table maps (Go 1.24+, internal/runtime/maps). Everything is read by the field names
# of the DWARF types the linker synthesizes for each map type: map<K,V> (the Map header,
# whose dirPtr is declared **table<K,V>), table<K,V> (groups is a groupReference<K,V> of
# data and lengthMask) and the group type groups.data points to (noalg.map.group[K]V: ctrl
# and slots [8]struct{key; elem}, or with GOEXPERIMENT=mapsplitgroup ctrl, keys [8]K and
# elems [8]V). A type whose fields are not exactly these is not decoded here: it falls
# through to the next printer (Go's runtime-gdb.py).

GOMAP_SWISS_GROUP_SLOTS = 8  # abi.SwissMapGroupSlots
GOMAP_SWISS_CTRL_EMPTY = 0x80  # ctrlEmpty
GOMAP_SWISS_CTRL_DELETED = 0xFE  # ctrlDeleted
GOMAP_SWISS_MAX_TABLE_CAPACITY = 1024  # maxTableCapacity
GOMAP_SWISS_MAX_AVG_GROUP_LOAD = 7  # maxAvgGroupLoad
GOMAP_SWISS_MAX_INLINE = 128  # abi.SwissMapMaxKeyBytes / MaxElemBytes
GOMAP_SWISS_MAX_GLOBAL_DEPTH = 40  # map-inspect's limit: a directory of 2^40 is 8 TiB
GOMAP_SWISS_MAP_FIELDS = ("used", "seed", "dirPtr", "dirLen", "globalDepth", "globalShift",
                          "writing", "clearSeq")
GOMAP_SWISS_MAP_OPTIONAL = ("tombstonePossible",)  # Go 1.25+
GOMAP_SWISS_TABLE_FIELDS = ("used", "capacity", "growthLeft", "localDepth", "index", "groups")


def gomap_swiss_max_growth_left(capacity):
    """Go's maxGrowthLeft: all slots but one for a table of one group, else 7/8 of them."""
    if capacity <= GOMAP_SWISS_GROUP_SLOTS:
        return capacity - 1
    return capacity * GOMAP_SWISS_MAX_AVG_GROUP_LOAD // GOMAP_SWISS_GROUP_SLOTS


def gomap_swiss_ctrl_name(c):
    if c == GOMAP_SWISS_CTRL_EMPTY:
        return "empty"
    if c == GOMAP_SWISS_CTRL_DELETED:
        return "deleted"
    if c & 0x80 == 0:
        return "full"
    return "invalid"


def gomap_fields_of(t):
    """{name: (offset, size, type)} of a struct type."""
    return {f.name: (f.bitpos // 8, f.type.strip_typedefs().sizeof, f.type)
            for f in t.strip_typedefs().fields()}


class GomapSwissLayout:
    """The layout of one Swiss map type, from its DWARF types (see above)."""

    def __init__(self, map_struct):
        ms = map_struct.strip_typedefs()
        self.name = gomap_struct_name(ms) or str(ms)
        fields = gomap_fields_of(ms)
        names = set(fields)
        known = set(GOMAP_SWISS_MAP_FIELDS)
        if not known <= names or not names <= known | set(GOMAP_SWISS_MAP_OPTIONAL):
            raise GomapError("%s is not a Swiss map header this script knows (fields %s)"
                             % (self.name, ", ".join(sorted(names))))
        self.map_fields = {n: (o, s) for n, (o, s, _) in fields.items()}
        self.map_size = ms.sizeof
        if fields["used"][1] != 8 or fields["dirPtr"][1] != 8 or fields["dirLen"][1] != 8:
            raise GomapError("%s: used, dirPtr and dirLen are not 8 bytes" % self.name)
        dp = fields["dirPtr"][2].strip_typedefs()
        if dp.code != gdb.TYPE_CODE_PTR or dp.target().strip_typedefs().code != gdb.TYPE_CODE_PTR:
            raise GomapError("%s.dirPtr is not a **table" % self.name)
        tt = dp.target().strip_typedefs().target().strip_typedefs()
        tf = gomap_fields_of(tt)
        if set(tf) != set(GOMAP_SWISS_TABLE_FIELDS):
            raise GomapError("%s is not a Swiss table this script knows (fields %s)"
                             % (gomap_struct_name(tt), ", ".join(sorted(tf))))
        self.table_size = tt.sizeof
        self.table_fields = {n: (o, s) for n, (o, s, _) in tf.items() if n != "groups"}
        gref = tf["groups"][2].strip_typedefs()
        gf = gomap_fields_of(gref)
        if set(gf) != {"data", "lengthMask"}:
            raise GomapError("%s.groups has fields %s, not data and lengthMask"
                             % (gomap_struct_name(tt), ", ".join(sorted(gf))))
        goff = tf["groups"][0]
        self.table_fields["groups.data"] = (goff + gf["data"][0], 8)
        self.table_fields["groups.lengthMask"] = (goff + gf["lengthMask"][0], 8)
        gp = gf["data"][2].strip_typedefs()
        if gp.code != gdb.TYPE_CODE_PTR:
            raise GomapError("groups.data is not a pointer")
        self.group_type = gp.target().strip_typedefs()
        self.group_size = self.group_type.sizeof
        grp = gomap_fields_of(self.group_type)
        if "ctrl" not in grp or grp["ctrl"][0] != 0 or grp["ctrl"][1] != 8:
            raise GomapError("the group type %s has no ctrl word at 0" % self.group_type)
        m = re.match(r"^map<(.*)>$", self.name)
        kv = m.group(1) if m else ""
        if set(grp) == {"ctrl", "slots"}:
            off, _, st = grp["slots"]
            slot = st.strip_typedefs().target().strip_typedefs()
            sf = gomap_fields_of(slot)
            if set(sf) != {"key", "elem"}:
                raise GomapError("a slot of %s has fields %s" % (self.group_type,
                                                                ", ".join(sorted(sf))))
            self.split = False
            self.keys_off = off + sf["key"][0]
            self.elems_off = off + sf["elem"][0]
            self.key_stride = self.elem_stride = slot.sizeof
            kf, ef = sf["key"][2], sf["elem"][2]
        elif set(grp) == {"ctrl", "keys", "elems"}:
            self.split = True
            self.keys_off, _, kat = grp["keys"]
            self.elems_off, _, eat = grp["elems"]
            kf = kat.strip_typedefs().target()
            ef = eat.strip_typedefs().target()
            self.key_stride = kf.strip_typedefs().sizeof
            self.elem_stride = ef.strip_typedefs().sizeof
        else:
            raise GomapError("the group type %s has fields %s, neither slots nor keys and elems"
                             % (self.group_type, ", ".join(sorted(grp))))
        self.key_type, self.indirect_key = self._slot_type(kf, kv, True)
        self.elem_type, self.indirect_elem = self._slot_type(ef, kv, False)
        last = max(self.keys_off + 7 * self.key_stride + (8 if self.indirect_key else
                                                          self.key_type.sizeof),
                   self.elems_off + 7 * self.elem_stride + (8 if self.indirect_elem else
                                                            self.elem_type.sizeof))
        if last > self.group_size:
            raise GomapError("the slots of %s end past the group" % self.group_type)

    @staticmethod
    def _slot_type(t, kv, is_key):
        """(value type, indirect?) of a slot field: a pointer to a type over 128 bytes whose
        name is the map's key (elem) type is Go's indirect storage, not a pointer key."""
        st = t.strip_typedefs()
        if st.code == gdb.TYPE_CODE_PTR:
            target = st.target()
            tname = str(target)
            named = kv.startswith(tname + ",") if is_key else kv.endswith("," + tname)
            if named and target.strip_typedefs().sizeof > GOMAP_SWISS_MAX_INLINE:
                return target, True
        return t, False

    def key_offset(self, i):
        return self.keys_off + i * self.key_stride

    def elem_offset(self, i):
        return self.elems_off + i * self.elem_stride

    def regions(self):
        out = [(0, 8, "ctrl")]
        ks = 8 if self.indirect_key else self.key_type.sizeof
        es = 8 if self.indirect_elem else self.elem_type.sizeof
        for i in range(GOMAP_SWISS_GROUP_SLOTS):
            out.append((self.key_offset(i), ks, "key %d" % i))
            out.append((self.elem_offset(i), es, "elem %d" % i))
        return sorted(r for r in out if r[1] > 0)

    def describe(self):
        def one(what, t, indirect):
            how = "indirect: a pointer in the slot" if indirect else "inline"
            return "%s %s (%d bytes, %s)" % (what, t, t.sizeof, how)

        if self.split:
            slots = "keys[8] at %d, elems[8] at %d" % (self.keys_off, self.elems_off)
        else:
            slots = "slots[8] of %d bytes {key at +%d, elem at +%d}" % (
                self.key_stride, 0, self.elems_off - self.keys_off)
        return "%s, %s, group %d bytes: ctrl, %s" % (
            one("key", self.key_type, self.indirect_key),
            one("elem", self.elem_type, self.indirect_elem), self.group_size, slots)


# Layouts by type name, cleared whenever an objfile is loaded.
GOMAP_SWISS_LAYOUTS = {}


def gomap_swiss_layout(map_struct):
    """The GomapSwissLayout of a map<K,V> type (cached by type name); raises GomapError."""
    key = str(map_struct.strip_typedefs())
    lay = GOMAP_SWISS_LAYOUTS.get(key)
    if lay is None:
        try:
            lay = GomapSwissLayout(map_struct)
        except GomapError as e:
            lay = e
        except (gdb.error, AttributeError, TypeError, KeyError, ValueError) as e:
            lay = GomapError("%s: %s" % (key, e))
        GOMAP_SWISS_LAYOUTS[key] = lay
    if isinstance(lay, GomapError):
        raise lay
    return lay


def gomap_is_swiss_header(t):
    """Whether a struct type is a Swiss map header this script decodes."""
    try:
        gomap_swiss_layout(t)
        return True
    except GomapError:
        return False


class GomapSwissHeader:
    """A Swiss Map header, read by the DWARF offsets of its fields."""

    def __init__(self, addr, lay):
        self.addr = addr
        self.lay = lay
        data = gomap_read(addr, lay.map_size)
        self.raw = data
        self.fields = sorted((o, n, s) for n, (o, s) in lay.map_fields.items())
        for name, (off, size) in lay.map_fields.items():
            setattr(self, name, gomap_le(data, off, size))
        if self.dirLen >= 1 << 63:
            self.dirLen -= 1 << 64
        if not hasattr(self, "tombstonePossible"):
            self.tombstonePossible = None

    def small(self):
        return self.dirLen == 0

    def validate(self):
        """Raises GomapError when the header cannot describe a Swiss map (the checks of
        map-inspect's decoder)."""
        if not any(self.raw):
            raise GomapError("the %d header bytes are all zero" % len(self.raw))
        if self.used >= 1 << 62:
            raise GomapError("used = %d is impossible" % self.used)
        if self.writing > 1:
            raise GomapError("writing = %#04x: Go toggles it between 0 and 1" % self.writing)
        if self.tombstonePossible is not None and self.tombstonePossible > 1:
            raise GomapError("tombstonePossible = %#04x is not a bool" % self.tombstonePossible)
        if self.dirPtr % GOMAP_PTR_SIZE or 0 < self.dirPtr < 4096 or \
                self.dirPtr >= GOMAP_MAX_ADDR * 2:
            raise GomapError("dirPtr = %#x is not a valid pointer" % self.dirPtr)
        if self.dirLen < 0:
            raise GomapError("dirLen = %d is negative" % self.dirLen)
        if self.dirLen == 0:
            if self.globalDepth != 0 or self.globalShift != 0:
                raise GomapError("globalDepth = %d, globalShift = %d but dirLen = 0: a small "
                                 "map has no directory" % (self.globalDepth, self.globalShift))
            if self.used > GOMAP_SWISS_GROUP_SLOTS:
                raise GomapError("used = %d but dirLen = 0: a small map holds at most 8 entries"
                                 % self.used)
            if self.dirPtr == 0 and self.used != 0:
                raise GomapError("used = %d but dirPtr is nil" % self.used)
            return
        if self.globalDepth > GOMAP_SWISS_MAX_GLOBAL_DEPTH:
            raise GomapError("globalDepth = %d is absurd" % self.globalDepth)
        if self.dirLen != 1 << self.globalDepth:
            raise GomapError("dirLen = %d but globalDepth = %d: the directory has 1 << "
                             "globalDepth entries" % (self.dirLen, self.globalDepth))
        if self.globalShift != 64 - self.globalDepth:
            raise GomapError("globalShift = %d but globalDepth = %d" % (self.globalShift,
                                                                         self.globalDepth))
        if self.dirPtr == 0:
            raise GomapError("dirPtr is nil but dirLen = %d" % self.dirLen)


class GomapSwissTable:
    """One table: its fields, and where in the directory it is."""

    def __init__(self, number, addr, lay, first, count):
        self.number = number
        self.addr = addr
        self.dir_first = first
        self.dir_count = count
        data = gomap_read(addr, lay.table_size)
        self.raw = data
        for name, (off, size) in lay.table_fields.items():
            setattr(self, name.replace("groups.", "groups_"), gomap_le(data, off, size))
        if self.index >= 1 << 63:
            self.index -= 1 << 64

    def max_growth_left(self):
        return gomap_swiss_max_growth_left(self.capacity)

    def tombstones(self):
        return self.max_growth_left() - self.used - self.growthLeft

    def ngroups(self):
        return self.groups_lengthMask + 1

    def validate(self, global_depth):
        name = "table %d at %#x" % (self.number, self.addr)
        cap = self.capacity
        if cap < GOMAP_SWISS_GROUP_SLOTS or cap > GOMAP_SWISS_MAX_TABLE_CAPACITY or \
                cap & (cap - 1):
            raise GomapError("%s: capacity = %d is not a power of two from 8 to 1024"
                             % (name, cap))
        if self.groups_lengthMask != cap // GOMAP_SWISS_GROUP_SLOTS - 1:
            raise GomapError("%s: groups.lengthMask = %#x is absurd for a capacity of %d"
                             % (name, self.groups_lengthMask, cap))
        if self.localDepth > global_depth:
            raise GomapError("%s: localDepth = %d is beyond globalDepth = %d"
                             % (name, self.localDepth, global_depth))
        run = 1 << (global_depth - self.localDepth)
        if self.dir_count != run or self.dir_first % run:
            raise GomapError("%s: directory entries %d..%d point to it, but localDepth %d at "
                             "globalDepth %d gives runs of %d: the directory is inconsistent"
                             % (name, self.dir_first, self.dir_first + self.dir_count - 1,
                                self.localDepth, global_depth, run))
        if self.index != self.dir_first:
            raise GomapError("%s: index = %d but its directory entries start at %d"
                             % (name, self.index, self.dir_first))
        if self.used + self.growthLeft > self.max_growth_left():
            raise GomapError("%s: used %d + growthLeft %d exceed capacity*7/8"
                             % (name, self.used, self.growthLeft))
        d = self.groups_data
        if d == 0 or d % GOMAP_PTR_SIZE or d < 4096 or d >= GOMAP_MAX_ADDR * 2:
            raise GomapError("%s: groups.data = %#x is not a valid pointer" % (name, d))


class GomapSwissMap:
    """A Swiss map in memory: header address, layout, label."""

    kind = "go"

    def __init__(self, addr, lay, label):
        self.hmap_addr = addr
        self.lay = lay
        self.layout = lay  # key_type / elem_type, as GomapMapPrinter expects
        self.label = label

    def header(self):
        gomap_check_target()
        if self.hmap_addr == 0:
            raise GomapError("nil map")
        h = GomapSwissHeader(self.hmap_addr, self.lay)
        h.validate()
        return h

    def tables(self, h):
        """The tables in directory order, each checked."""
        if h.small():
            return []
        dir_bytes = gomap_read(h.dirPtr, 8 * h.dirLen)
        ptrs = [gomap_le(dir_bytes, 8 * i, 8) for i in range(h.dirLen)]
        out = []
        seen = {}
        i = 0
        while i < len(ptrs):
            p = ptrs[i]
            if p == 0 or p % GOMAP_PTR_SIZE or p < 4096 or p >= GOMAP_MAX_ADDR * 2:
                raise GomapError("directory entry %d = %#x is not a table pointer" % (i, p))
            j = i + 1
            while j < len(ptrs) and ptrs[j] == p:
                j += 1
            if p in seen:
                raise GomapError("directory entries %d and %d point to table %#x but the ones "
                                 "between do not: the directory is inconsistent"
                                 % (seen[p], i, p))
            seen[p] = i
            t = GomapSwissTable(len(out), p, self.lay, i, j - i)
            t.validate(h.globalDepth)
            out.append(t)
            i = j
        return out

    def groups(self, h, tables, walker, only_table=None):
        """Yields (table or None, group index, addr, bytes), every ctrl byte checked."""
        gs = self.lay.group_size
        if h.small():
            if h.dirPtr != 0 and only_table is None:
                walker.take_group(h.dirPtr)
                data = gomap_read(h.dirPtr, gs)
                self.check_ctrls(data, "the small map's group", True)
                yield None, 0, h.dirPtr, data
            return
        for t in tables:
            if only_table is not None and t.number != only_table:
                continue
            n = t.ngroups()
            per = max(1, GOMAP_READ_CHUNK // gs)
            i = 0
            while i < n:
                k = min(per, n - i)
                data = gomap_read(t.groups_data + i * gs, k * gs)
                for j in range(k):
                    addr = t.groups_data + (i + j) * gs
                    walker.take_group(addr)
                    g = data[j * gs:(j + 1) * gs]
                    self.check_ctrls(g, "table %d group %d" % (t.number, i + j), False)
                    yield t, i + j, addr, g
                i += k

    @staticmethod
    def check_ctrls(data, where, small):
        for i in range(GOMAP_SWISS_GROUP_SLOTS):
            c = data[i]
            name = gomap_swiss_ctrl_name(c)
            if name == "invalid":
                raise GomapError("%s slot %d: ctrl byte %#04x is no valid state (empty 0x80, "
                                 "deleted 0xfe, or full 0x00-0x7f)" % (where, i, c))
            if small and name == "deleted":
                raise GomapError("%s slot %d: a deleted slot in a small map" % (where, i))

    def slot_addrs(self, gaddr, gdata, i):
        lay = self.lay
        k = gaddr + lay.key_offset(i)
        e = gaddr + lay.elem_offset(i)
        if lay.indirect_key:
            k = gomap_le(gdata, lay.key_offset(i), GOMAP_PTR_SIZE)
            if k == 0:
                raise GomapError("full slot %d of group %#x has a nil key pointer" % (i, gaddr))
        if lay.indirect_elem:
            e = gomap_le(gdata, lay.elem_offset(i), GOMAP_PTR_SIZE)
            if e == 0:
                raise GomapError("full slot %d of group %#x has a nil elem pointer"
                                 % (i, gaddr))
        return k, e

    def entries(self, h):
        """([(key addr, elem addr)], truncated?): every full slot, each table once."""
        out = []
        self._counts = (0, 0)
        walker = GomapSwissWalker()
        tables = self.tables(h)
        self._tables = tables
        try:
            for _, _, gaddr, g in self.groups(h, tables, walker):
                for i in range(GOMAP_SWISS_GROUP_SLOTS):
                    if g[i] & 0x80 == 0:
                        out.append(self.slot_addrs(gaddr, g, i))
        except GomapTruncated:
            return out, True
        return out, False

    def summary(self, h, found=None):
        parts = ["len=%d" % h.used]
        if h.small():
            parts.append("small map: %s" % ("1 group" if h.dirPtr else "no group yet"))
        else:
            tables = getattr(self, "_tables", None)
            if tables is None:
                tables = self.tables(h)
            ngroups = sum(t.ngroups() for t in tables)
            tombs = sum(t.tombstones() for t in tables)
            parts.append("%s in a directory of %s (globalDepth %d), %s, %s" % (
                gomap_plural(len(tables), "table"), gomap_plural(h.dirLen, "entry", "entries"),
                h.globalDepth, gomap_plural(ngroups, "group"),
                gomap_plural(tombs, "tombstone")))
        if h.writing:
            parts.append("writing: a write is in progress")
        if h.clearSeq:
            parts.append("cleared %s" % gomap_plural(h.clearSeq, "time"))
        if found is not None and found != h.used:
            parts.append("WARNING: used is %d but %d slots are full" % (h.used, found))
        return "%s(%s)" % (self.label, ", ".join(parts))

    def value_at(self, addr, t):
        return gdb.Value(addr).cast(t.pointer()).dereference()


class GomapSwissWalker:
    """Counts the groups a walk reads against gomap-max-buckets."""

    def __init__(self):
        self.budget = gomap_max_buckets()

    def take_group(self, addr):
        if self.budget <= 0:
            raise GomapTruncated()
        self.budget -= 1


def gomap_swiss_map(map_struct, addr, label=None):
    lay = gomap_swiss_layout(map_struct)
    if label is None:
        label = lay.name
    return GomapSwissMap(addr, lay, label)


def gomap_swiss_info(m, addr):
    """gomap info for a Swiss map."""
    h = m.header()
    lay = m.lay
    gomap_write("%s, Swiss map header @ %#x" % (m.label, addr))
    for off, name, size in h.fields:
        v = getattr(h, name)
        if name in ("seed", "dirPtr"):
            text = "%#x" % v
        else:
            text = "%d" % v
        gomap_write("  %-17s %s" % (name, text))
    gomap_write("  layout            %s" % lay.describe())
    if h.small():
        gomap_write("  small map         %s" % ("one group at %#x" % h.dirPtr if h.dirPtr
                                               else "no group yet"))
    else:
        tables = m.tables(h)
        gomap_write("  directory         %s at %#x, %s" % (
            gomap_plural(h.dirLen, "entry", "entries"), h.dirPtr,
            gomap_plural(len(tables), "table")))
        for t in tables:
            gomap_write("  table %-3d @ %#x  entries %d-%d, localDepth %d, used %d, capacity %d, "
                        "growthLeft %d, tombstones %d, %s" % (
                            t.number, t.addr, t.dir_first, t.dir_first + t.dir_count - 1,
                            t.localDepth, t.used, t.capacity, t.growthLeft, t.tombstones(),
                            gomap_plural(t.ngroups(), "group")))
    items, truncated = m.entries(h)
    if truncated:
        gomap_write("  entries           more than the walk limit (gomap-max-buckets %d)"
                    % gomap_max_buckets())
    else:
        gomap_write("  entries           %s%s" % (
            gomap_plural(len(items), "full slot"), "" if len(items) == h.used else
            "  (WARNING: used says %d)" % h.used))


def gomap_swiss_group_table(m, gaddr, gdata):
    """The slot table of map-inspect's Swiss dump: slot, ctrl, state, h2, key, elem."""
    lay = m.lay
    rows = []
    for i in range(GOMAP_SWISS_GROUP_SLOTS):
        c = gdata[i]
        state = gomap_swiss_ctrl_name(c)
        if state == "full":
            ka, ea = m.slot_addrs(gaddr, gdata, i)
            k = gomap_cut(gomap_fmt_value(m.value_at(ka, lay.key_type)), 40)
            v = gomap_cut(gomap_fmt_value(m.value_at(ea, lay.elem_type)), 40)
            rows.append((i, c, state, "%#04x" % c, k, v))
        else:
            rows.append((i, c, state, "", "", ""))
    if all(r[2] == "empty" for r in rows):
        gomap_write("    all 8 slots empty (ctrl 0x80)")
        return
    kw = max([3] + [len(r[4]) for r in rows])
    gomap_write("    slot ctrl  %-8s  %-4s  %-*s  elem" % ("state", "h2", kw, "key"))
    for i, c, state, h2, k, v in rows:
        note = ("tombstone: deleted from a group that was full" if state == "deleted" else "")
        gomap_write(("    %4d 0x%02x  %-8s  %-4s  %-*s  %s%s" % (i, c, state, h2, kw, k, v, note))
                    .rstrip())


def gomap_swiss_buckets(m, only_table):
    """gomap buckets for a Swiss map: every table's groups, slot by slot."""
    h = m.header()
    tables = m.tables(h)
    if only_table is not None and not h.small() and only_table >= len(tables):
        raise GomapError("table %d does not exist: the map has %s"
                         % (only_table, gomap_plural(len(tables), "table")))
    if h.small():
        gomap_write("%s: small map (dirLen 0): %s" % (
            m.label, "one group at %#x" % h.dirPtr if h.dirPtr else "no group yet"))
    walker = GomapSwissWalker()
    last = None
    try:
        for t, gi, gaddr, g in m.groups(h, tables, walker, only_table):
            if t is not None and t is not last:
                last = t
                gomap_write("%s: table %d @ %#x: used %d, capacity %d, growthLeft %d, "
                            "tombstones %d, localDepth %d, directory entries %d-%d" % (
                                m.label, t.number, t.addr, t.used, t.capacity, t.growthLeft,
                                t.tombstones(), t.localDepth, t.dir_first,
                                t.dir_first + t.dir_count - 1))
            ident = "small" if t is None else "t%d.g%d" % (t.number, gi)
            gomap_write("  %s %#x  ctrl %s" % (ident, gaddr,
                                               " ".join("%02x" % b for b in g[:8])))
            gomap_swiss_group_table(m, gaddr, g)
    except GomapTruncated:
        gomap_write("... walk stopped after %d groups (set gomap-max-buckets N)"
                    % gomap_max_buckets())


def gomap_swiss_hexdump(m, addr, table, group):
    """gomap hexdump for a Swiss map: the header, then groups (of one table, or one group)."""
    h = m.header()
    if table is None:
        gomap_write("Map (%d bytes at %#x)" % (len(h.raw), addr))
        regions = [(off, size, name) for off, name, size in h.fields]
        for line in gomap_hex_lines(addr, h.raw, regions):
            gomap_write(line)
    tables = m.tables(h)
    if table is not None and (h.small() or table >= len(tables)):
        raise GomapError("table %d does not exist: the map has %s" % (
            table, "no tables (a small map)" if h.small() else
            gomap_plural(len(tables), "table")))
    walker = GomapSwissWalker()
    regions = m.lay.regions()
    try:
        for t, gi, gaddr, g in m.groups(h, tables, walker, table):
            if group is not None and gi != group:
                continue
            ident = "small" if t is None else "t%d.g%d" % (t.number, gi)
            gomap_write("  %s %#x" % (ident, gaddr))
            for line in gomap_hex_lines(gaddr, g, regions):
                gomap_write("    " + line)
    except GomapTruncated:
        gomap_write("... walk stopped after %d groups (set gomap-max-buckets N)"
                    % gomap_max_buckets())
    if group is not None and table is not None and group >= tables[table].ngroups():
        raise GomapError("group %d does not exist: table %d has %s" % (
            group, table, gomap_plural(tables[table].ngroups(), "group")))


def gomap_short_rust_type(t):
    return re.sub(r"\b(?:[a-z_][a-z0-9_]*::)+", "", str(t))


def gomap_rust_layout(k, v):
    k = k.strip_typedefs() if k is not None else None
    v = v.strip_typedefs() if v is not None else None
    try:
        return GomapLayout(k.sizeof, k.alignof, v.sizeof, v.alignof, key_type=k, elem_type=v)
    except (gdb.error, AttributeError, TypeError) as e:
        raise GomapError("cannot size the key/elem types (%s)" % e)


def gomap_template_kv(t):
    try:
        return t.template_argument(0), t.template_argument(1)
    except (gdb.error, RuntimeError, TypeError) as e:
        raise GomapError("cannot read the key and elem types of %s (%s)" % (t, e))


def gomap_go_slot_type(arr):
    """(display type, indirect) from a Go bucket's keys/values field type ([]key<K>)."""
    elem = arr.target()
    m = re.match(r"^\[\](?:key|val)<(.*)>$", str(arr))
    if elem.code == gdb.TYPE_CODE_PTR:
        if m is not None:
            if str(elem.target()) == m.group(1) and str(elem) != m.group(1):
                return elem.target(), True
            return elem, False
        if elem.target().sizeof > GOMAP_MAX_KEY_SIZE:
            return elem.target(), True
    return elem, False


def gomap_go_layout(bucket_type):
    bt = bucket_type.strip_typedefs()
    try:
        kt, ik = gomap_go_slot_type(bt["keys"].type.strip_typedefs())
        vt, iv = gomap_go_slot_type(bt["values"].type.strip_typedefs())
    except (KeyError, gdb.error, AttributeError) as e:
        raise GomapError("%s is not a Go bucket type (%s)" % (bt, e))
    lay = GomapLayout(kt.sizeof, 1, vt.sizeof, 1, key_type=kt, elem_type=vt,
                      indirect_key=ik, indirect_elem=iv)
    if lay.bucketsize != bt.sizeof:
        raise GomapError("%s is %d bytes in DWARF but the layout rules give %d"
                         % (bt, bt.sizeof, lay.bucketsize))
    return lay


def gomap_is_go_map_type(t):
    """A Go map type: typedef map[K]V -> *hash<K,V>."""
    return bool(re.match(r"^map\[.*\].*$", str(t))) and \
        t.strip_typedefs().code == gdb.TYPE_CODE_PTR


def gomap_struct_name(t):
    t = t.strip_typedefs()
    if t.code not in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
        return None
    return t.name or t.tag or str(t)


GOMAP_CLASSIC_FIELDS = ("count", "flags", "B", "noverflow", "hash0", "buckets", "oldbuckets",
                        "nevacuate", "extra")


def gomap_go_hmap_fields(ht):
    """(fields, size) of a Go classic map header from its DWARF struct (hash<K,V> or
    runtime.hmap): every field by name, so that Go 1.24-1.25's 56-byte header (clearSeq at 40,
    extra at 48) reads as well as the 48-byte one."""
    fields = []
    try:
        for f in ht.strip_typedefs().fields():
            if f.name in GOMAP_CLASSIC_FIELDS or f.name == "clearSeq":
                fields.append((f.name, f.bitpos // 8, f.type.strip_typedefs().sizeof))
        size = ht.strip_typedefs().sizeof
    except (gdb.error, TypeError, AttributeError) as e:
        raise GomapError("cannot read the fields of %s (%s)" % (ht, e))
    missing = [n for n in GOMAP_CLASSIC_FIELDS if n not in [f[0] for f in fields]]
    if missing:
        raise GomapError("%s is not a classic Go map header (no %s)" % (ht, ", ".join(missing)))
    return fields, size


def gomap_is_classic_header(t):
    """Whether a struct type is a classic Go map header (else: a Swiss map, or unknown)."""
    return gomap_has_fields(t, GOMAP_CLASSIC_FIELDS)


def gomap_go_hash_map(hash_type, addr, label=None):
    ht = hash_type.strip_typedefs()
    try:
        bucket_type = ht["buckets"].type.strip_typedefs().target()
    except (KeyError, gdb.error) as e:
        raise GomapError("%s has no buckets field (%s)" % (ht, e))
    lay = gomap_go_layout(bucket_type)
    fields, size = gomap_go_hmap_fields(ht)
    if label is None:
        m = re.match(r"^hash<(.*)>$", gomap_struct_name(ht) or "")
        label = "hash<%s>" % m.group(1) if m else str(ht)
    return GomapMap(addr, lay, label, "go", fields, size)


def gomap_map_of(val):
    """The GomapMap (or GomapSwissMap) a value denotes, or None when it is not a map this
    script knows."""
    t = val.type
    if gomap_is_go_map_type(t):
        target = t.strip_typedefs().target()
        if gomap_is_classic_header(target):
            return gomap_go_hash_map(target, int(val), label=str(t))
        if gomap_is_swiss_header(target):
            return gomap_swiss_map(target, int(val), label=str(t))
        return None
    name = gomap_struct_name(t)
    if name is None:
        if t.strip_typedefs().code in (gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_REF,
                                       gdb.TYPE_CODE_RVALUE_REF):
            target = t.strip_typedefs().target()
            tn = gomap_struct_name(target)
            if tn is not None and (tn.startswith("gomap::map::GoMap<")
                                   or tn.startswith("hash<") or tn.startswith("map<")):
                if int(val) == 0:
                    raise GomapError("null pointer")
                return gomap_map_of(val.dereference())
        return None
    if name.startswith("gomap::map::GoMap<"):
        k, v = gomap_template_kv(t.strip_typedefs())
        h = val["raw"]["h"]
        if h.address is None:
            raise GomapError("this value is not in memory (no address)")
        label = "GoMap<%s, %s>" % (gomap_short_rust_type(k), gomap_short_rust_type(v))
        return GomapMap(int(h.address), gomap_rust_layout(k, v), label, "gomap")
    if name.startswith("gomap::view::RawView<"):
        k, v = gomap_template_kv(t.strip_typedefs())
        label = "RawView<%s, %s>" % (gomap_short_rust_type(k), gomap_short_rust_type(v))
        return GomapMap(int(val["h"]), gomap_rust_layout(k, v), label, "gomap")
    if re.match(r"^hash<.*>$", name):
        if val.address is None:
            raise GomapError("this value is not in memory (no address)")
        return gomap_go_hash_map(t, int(val.address))
    if re.match(r"^map<.*>$", name) and gomap_is_swiss_header(t):
        if val.address is None:
            raise GomapError("this value is not in memory (no address)")
        return gomap_swiss_map(t, int(val.address))
    return None


def gomap_header_addr_of(val):
    """Address of a bare header value (gomap::layout::Hmap, runtime.hmap), or None."""
    name = gomap_struct_name(val.type)
    if name in ("gomap::layout::Hmap", "runtime.hmap"):
        if val.address is None:
            raise GomapError("this value is not in memory (no address)")
        return int(val.address)
    return None


# ---------------------------------------------------------------------------------------------
# Pretty-printers.

def gomap_error_text(e):
    return "<gomap: error: %s>" % e


class GomapMapPrinter:
    """A GoMap, RawView, Go map[K]V or hash<K,V>: summary line and the live entries."""

    def __init__(self, val, m):
        self.val = val
        self.m = m
        self.items = []
        self.text = None

    def _load(self):
        if self.text is not None:
            return
        try:
            h = self.m.header()
            self.items, truncated = self.m.entries(h)
            text = self.m.summary(h, None if truncated else len(self.items))
            if truncated:
                text += (" <gomap: walk stopped after %d buckets; "
                         "raise it with `set gomap-max-buckets N`>" % gomap_max_buckets())
            self.text = text
        except GomapError as e:
            self.items = []
            self.text = gomap_error_text(e)
        except Exception as e:  # never let a traceback reach the user
            self.items = []
            self.text = gomap_error_text("%s: %s" % (type(e).__name__, e))

    def to_string(self):
        self._load()
        return self.text

    def display_hint(self):
        return "map"

    def children(self):
        self._load()
        kt, vt = self.m.layout.key_type, self.m.layout.elem_type
        for n, (ka, ea) in enumerate(self.items):
            try:
                k = self.m.value_at(ka, kt)
                v = self.m.value_at(ea, vt)
            except Exception as e:
                k = v = gomap_error_text(e)
            yield "key%d" % n, k
            yield "val%d" % n, v


class GomapHeaderPrinter:
    """gomap::layout::Hmap or Go's runtime.hmap, with flags by name."""

    def __init__(self, val):
        self.val = val

    def to_string(self):
        try:
            gomap_check_target()
            addr = gomap_header_addr_of(self.val)
            if gomap_struct_name(self.val.type) == "runtime.hmap":
                fields, size = gomap_go_hmap_fields(self.val.type)
                h = GomapHeader(addr, fields, size)
            else:
                h = GomapHeader(addr)
            return gomap_header_text(h)
        except GomapError as e:
            return gomap_error_text(e)
        except Exception as e:
            return gomap_error_text("%s: %s" % (type(e).__name__, e))


def gomap_header_text(h):
    clear = "" if h.clearSeq is None else "clearSeq: %d, " % h.clearSeq
    return ("hmap {count: %d, flags: %s, B: %d, noverflow: %d, hash0: %#x, buckets: %#x, "
            "oldbuckets: %#x, nevacuate: %d, %sextra: %#x}" % (
                h.count, gomap_flag_names(h.flags), h.B, h.noverflow, h.hash0, h.buckets,
                h.oldbuckets, h.nevacuate, clear, h.extra))


def gomap_tophash_summary(data):
    return " ".join(
        ("%02x" % t) if t >= GOMAP_MIN_TOP_HASH else gomap_tophash_name(t)
        for t in data[:GOMAP_BUCKET_CNT])


class GomapBucketPrinter:
    """gomap::view::BucketView<K, V> or Go's bucket<K,V>: tophash states and live slots."""

    def __init__(self, val, kind):
        self.val = val
        self.kind = kind
        self.text = None
        self.slots = []

    def _load(self):
        if self.text is not None:
            return
        try:
            gomap_check_target()
            t = self.val.type.strip_typedefs()
            if self.kind == "gomap":
                k, v = gomap_template_kv(t)
                lay = gomap_rust_layout(k, v)
                mem_bs = int(self.val["view"]["layout"]["bucketsize"])
                if mem_bs != lay.bucketsize:
                    raise GomapError("the view says bucketsize %d, the types give %d"
                                     % (mem_bs, lay.bucketsize))
                addr = int(self.val["ptr"])
                label = "BucketView<%s, %s>" % (gomap_short_rust_type(k),
                                                 gomap_short_rust_type(v))
            else:
                lay = gomap_go_layout(t)
                if self.val.address is None:
                    raise GomapError("this value is not in memory (no address)")
                addr = int(self.val.address)
                label = gomap_struct_name(t)
            if addr == 0 or addr % GOMAP_PTR_SIZE:
                raise GomapError("bucket address %#x is not valid" % addr)
            data = gomap_read(addr, lay.bucketsize)
            m = GomapMap(0, lay, label, self.kind)
            self.slots = []
            for i in range(GOMAP_BUCKET_CNT):
                if data[i] >= GOMAP_MIN_TOP_HASH:
                    self.slots.append((i, m.slot_addrs(addr, data, i)))
            self.m = m
            self.text = "%s @ %#x {tophash: [%s], overflow: %#x}" % (
                label, addr, gomap_tophash_summary(data),
                gomap_le(data, lay.overflow_offset(), GOMAP_PTR_SIZE))
        except GomapError as e:
            self.slots = []
            self.text = gomap_error_text(e)
        except Exception as e:
            self.slots = []
            self.text = gomap_error_text("%s: %s" % (type(e).__name__, e))

    def to_string(self):
        self._load()
        return self.text

    def children(self):
        self._load()
        for i, (ka, ea) in self.slots:
            try:
                k = self.m.value_at(ka, self.m.layout.key_type)
                v = self.m.value_at(ea, self.m.layout.elem_type)
            except Exception as e:
                k = v = gomap_error_text(e)
            yield "key[%d]" % i, k
            yield "elem[%d]" % i, v


class GomapGoStringPrinter:
    """Go's string (so map[string]V reads well without runtime-gdb.py)."""

    def __init__(self, val):
        self.val = val

    def display_hint(self):
        return "string"

    def to_string(self):
        try:
            n = int(self.val["len"])
            if n < 0 or n > 1 << 20:
                return gomap_error_text("string length %d" % n)
            if n == 0:
                return ""
            return self.val["str"].string("utf-8", "replace", n)
        except Exception as e:
            return gomap_error_text(e)


class GomapLookup(gdb.printing.PrettyPrinter):
    """The one lookup function this script registers (see `info pretty-printer`)."""

    def __init__(self):
        super().__init__("gomap")

    def __call__(self, val):
        # First: is this a type of ours? A failure here means "no" (gdb tries the next
        # printer), so that no other value is ever shown as a gomap error.
        try:
            kind = gomap_kind_of(val.type)
        except Exception:
            return None
        if kind is None:
            return None
        # Then the printer; its errors are ours to show.
        try:
            if kind == "go-map-pointer":
                if int(val) == 0:
                    return GomapConstPrinter("%s nil" % val.type)
                return GomapMapPrinter(val, gomap_map_of(val))
            if kind == "map":
                return GomapMapPrinter(val, gomap_map_of(val))
            if kind in ("gomap-bucket", "go-bucket"):
                return GomapBucketPrinter(val, "gomap" if kind == "gomap-bucket" else "go")
            if kind == "header":
                return GomapHeaderPrinter(val)
            return GomapGoStringPrinter(val)
        except Exception as e:
            return GomapErrorPrinter(e)


def gomap_kind_of(t):
    """Which printer a type gets, or None."""
    if t.code == gdb.TYPE_CODE_TYPEDEF and gomap_is_go_map_type(t):
        # Classic maps, and Swiss maps whose types are exactly the ones this script knows;
        # any other header falls through to the next printer (Go's own runtime-gdb.py).
        target = t.strip_typedefs().target()
        if gomap_is_classic_header(target) or gomap_is_swiss_header(target):
            return "go-map-pointer"
        return None
    name = gomap_struct_name(t)
    if name is None:
        return None
    if name.startswith("gomap::map::GoMap<") or name.startswith("gomap::view::RawView<"):
        return "map"
    if name.startswith("gomap::view::BucketView<"):
        return "gomap-bucket"
    if name == "gomap::layout::Hmap":
        return "header"
    if name == "runtime.hmap" and gomap_is_classic_header(t):
        return "header"
    if name.startswith("hash<") and gomap_is_classic_header(t):
        return "map"
    if name.startswith("map<") and gomap_is_swiss_header(t):
        return "map"
    if name.startswith("bucket<") and gomap_has_fields(
            t, ("tophash", "keys", "values", "overflow")):
        return "go-bucket"
    if name == "string" and gomap_has_fields(t, ("str", "len")):
        return "go-string"
    return None


def gomap_has_fields(t, names):
    try:
        have = {f.name for f in t.strip_typedefs().fields()}
    except (gdb.error, TypeError):
        return False
    return all(n in have for n in names)


class GomapErrorPrinter:
    def __init__(self, e):
        self.e = e

    def to_string(self):
        return gomap_error_text(self.e)


class GomapConstPrinter:
    def __init__(self, text):
        self.text = text

    def to_string(self):
        return self.text


# ---------------------------------------------------------------------------------------------
# Commands.

def gomap_parse_args(arg, allow_numbers):
    """(expr, [numbers], old?) from 'EXPR [N [M]] [--old]': up to `allow_numbers` trailing
    numbers (a classic map's BUCKET; a Swiss map's TABLE and GROUP)."""
    toks = gdb.string_to_argv(arg)
    old = "--old" in toks
    toks = [t for t in toks if t != "--old"]
    nums = []
    while (len(nums) < allow_numbers and len(toks) >= 2
           and re.match(r"^(0x[0-9a-fA-F]+|[0-9]+)$", toks[-1])):
        nums.insert(0, int(toks[-1], 0))
        toks = toks[:-1]
    expr = " ".join(toks)
    if not expr:
        raise GomapError("missing EXPR (a GoMap, a Go map, or a pointer/reference to one)")
    return expr, nums, old


def gomap_resolve(expr):
    """(GomapMap or None, header address) for an expression."""
    try:
        val = gdb.parse_and_eval(expr)
    except gdb.error as e:
        raise GomapError("cannot evaluate %r: %s" % (expr, e))
    m = gomap_map_of(val)
    if m is not None:
        return m, m.hmap_addr
    if gomap_is_go_map_type(val.type):
        target = val.type.strip_typedefs().target()
        try:
            gomap_swiss_layout(target)
        except GomapError as e:
            raise GomapError("%s: %s; this script does not decode it (Go's printer, "
                             "runtime-gdb.py, prints it)" % (val.type, e))
    addr = gomap_header_addr_of(val)
    if addr is None and val.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
        target = val.type.strip_typedefs().target()
        if gomap_struct_name(target) in ("gomap::layout::Hmap", "runtime.hmap"):
            addr = int(val)
    if addr is None:
        raise GomapError("%r is a %s, not a gomap::GoMap, a Go map, or a map header"
                         % (expr, val.type))
    return None, addr


def gomap_fmt_value(v):
    try:
        return v.format_string(max_elements=32, repeat_threshold=10)
    except Exception as e:
        return "<error: %s>" % e


class GomapCommand(gdb.Command):
    """Look inside Go maps (gomap::GoMap, Go's classic and Swiss-table map[K]V).

gomap info EXPR                       header, flags, layout and grow progress (Swiss maps:
                                      header, directory, tables)
gomap buckets EXPR [--old]            every bucket of the current (--old: old) array
gomap buckets EXPR [TABLE]            a Swiss map's groups (of one table)
gomap hexdump EXPR [BUCKET] [--old]   labelled hex of the header and the buckets
gomap hexdump EXPR [TABLE [GROUP]]    a Swiss map's header and groups
gomap constants                       the layout constants this script assumes (JSON)

EXPR is a GoMap, a Go map, a pointer or reference to one, or a bare header
(gomap::layout::Hmap, runtime.hmap; `info` only). Walks visit at most
`gomap-max-buckets` buckets."""

    def __init__(self):
        super().__init__("gomap", gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)


class GomapSubcommand(gdb.Command):
    def __init__(self, name):
        super().__init__("gomap " + name, gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, arg, from_tty):
        gomap_ensure_first()
        try:
            self.run(arg)
        except GomapError as e:
            raise gdb.GdbError("gomap: error: %s" % e)
        except GomapTruncated:
            raise gdb.GdbError("gomap: walk stopped after %d buckets; raise it with "
                               "`set gomap-max-buckets N`" % gomap_max_buckets())
        except gdb.GdbError:
            raise
        except Exception as e:  # never let a traceback reach the user
            raise gdb.GdbError("gomap: error: %s: %s" % (type(e).__name__, e))


def gomap_plural(n, word, words=None):
    if n == 1:
        return "%d %s" % (n, word)
    return "%d %s" % (n, words if words is not None else word + "s")


def gomap_write(s):
    gdb.write(s + "\n")


class GomapInfoCommand(GomapSubcommand):
    """gomap info EXPR: the header field by field, flags by name, layout and grow progress."""

    def __init__(self):
        super().__init__("info")

    def run(self, arg):
        expr, _, _ = gomap_parse_args(arg, 0)
        m, addr = gomap_resolve(expr)
        gomap_check_target()
        if isinstance(m, GomapSwissMap):
            gomap_swiss_info(m, addr)
            return
        h = m.header() if m is not None else GomapHeader(addr)
        if m is not None:
            h.validate(m.layout)
            gomap_write("%s, header @ %#x" % (m.label, addr))
        else:
            h.validate(None)
            gomap_write("hmap @ %#x (a bare header: no key/elem types, no layout)" % addr)
        lay = m.layout if m is not None else None
        gomap_write("  count       %d" % h.count)
        gomap_write("  flags       %#04x %s" % (h.flags, gomap_flag_names(h.flags)))
        if lay is not None and h.buckets:
            n = lay.nbuckets(h.B)
            gomap_write("  B           %d  (%s + %d preallocated overflow)"
                        % (h.B, gomap_plural(1 << h.B, "bucket"), n - (1 << h.B)))
        else:
            gomap_write("  B           %d  (%s)" % (h.B, gomap_plural(1 << h.B, "bucket")))
        gomap_write("  noverflow   %d" % h.noverflow)
        gomap_write("  hash0       %#010x" % h.hash0)
        gomap_write("  buckets     %#x%s" % (h.buckets, "" if h.buckets else " (nil)"))
        if h.growing():
            gomap_write("  oldbuckets  %#x  (%s)"
                        % (h.oldbuckets, gomap_plural(h.noldbuckets(), "bucket")))
        else:
            gomap_write("  oldbuckets  0x0")
        gomap_write("  nevacuate   %d" % h.nevacuate)
        if h.extra:
            ex = gomap_read(h.extra, GOMAP_MAPEXTRA_SIZE)
            vals = ", ".join("%s %#x" % (name, gomap_le(ex, off, size))
                             for name, off, size in GOMAP_MAPEXTRA_FIELDS)
            gomap_write("  extra       %#x  (%s)" % (h.extra, vals))
        else:
            gomap_write("  extra       0x0")
        if lay is None:
            return
        gomap_write("  layout      %s" % lay.describe())
        if h.growing():
            gomap_write("  grow        %s" % m.grow_text(h))
        else:
            gomap_write("  grow        not growing")
        items, truncated = m.entries(h)
        if truncated:
            gomap_write("  entries     more than the walk limit (gomap-max-buckets %d)"
                        % gomap_max_buckets())
        else:
            gomap_write("  entries     %s%s" % (
                gomap_plural(len(items), "live slot"), "" if len(items) == h.count else
                "  (WARNING: count says %d)" % h.count))


class GomapBucketsCommand(GomapSubcommand):
    """gomap buckets EXPR [--old]: every bucket and its overflow chain, slot by slot.
gomap buckets EXPR [TABLE]: a Swiss map's groups (of every table, or of one), slot by slot."""

    def __init__(self):
        super().__init__("buckets")

    def run(self, arg):
        expr, nums, old = gomap_parse_args(arg, 1)
        m, _ = gomap_resolve(expr)
        if m is None:
            raise GomapError("a bare header has no key/elem types; pass the map itself")
        if isinstance(m, GomapSwissMap):
            if old:
                raise GomapError("a Swiss map has no old buckets: it never grows "
                                 "incrementally (a table is replaced at once)")
            gomap_swiss_buckets(m, nums[0] if nums else None)
            return
        if nums:
            raise GomapError("gomap buckets takes no number for a classic map (use "
                             "gomap hexdump EXPR BUCKET)")
        h = m.header()
        lay = m.layout
        if old:
            if not h.growing():
                gomap_write("%s: not growing (oldbuckets is nil)" % m.label)
                return
            base, b = h.oldbuckets, h.old_B()
            gomap_write("%s: oldbuckets (old array) at %#x: %d buckets, %s grow in progress: "
                        "%s evacuated, nevacuate = %d" % (
                            m.label, base, 1 << b,
                            "same-size" if h.same_size_grow() else "doubling",
                            gomap_or_text(lambda: m.evacuated_count(h)), h.nevacuate))
        else:
            if h.buckets == 0:
                gomap_write("%s: no buckets: the map has no bucket array yet" % m.label)
                return
            base, b = h.buckets, h.B
            pre = lay.nbuckets(b) - (1 << b)
            gomap_write("%s: buckets (current array) at %#x: %s%s" % (
                m.label, base, gomap_plural(1 << b, "bucket"),
                " + %d preallocated overflow" % pre if pre else ""))
        walker = GomapWalker(lay)
        heap_ids = {}
        try:
            # Every bucket in the dump's order, so that heap buckets get the dump's names
            # (heap#n); only the selected array's are printed.
            for is_old, i, depth, baddr, bdata, start, detached in gomap_walk_all(m, h, walker):
                if detached and depth == 0:
                    ident = "%s[%d]" % ("old" if is_old else "main", i)
                    what = ("preallocated overflow bucket of the %s array, cut off from its "
                            "chain's head (evacuate clears only the head's overflow word): Go "
                            "still reaches the buckets behind it through its own"
                            % ("old" if is_old else "current"))
                else:
                    ident, what = m.bucket_title(h, baddr, i, depth, is_old, heap_ids, start)
                if is_old != old:
                    continue
                gomap_write("  %s %#x  %s" % (ident, baddr, what))
                gomap_slot_table(m, baddr, bdata)
        except GomapTruncated:
            gomap_write("... walk stopped after %d buckets (set gomap-max-buckets N)"
                        % gomap_max_buckets())


def gomap_walk_all(m, h, walker):
    """Yields (is_old, i, depth, addr, bytes, start bytes, detached) for every bucket reachable
    from the arrays, in `map-inspect dump`'s order: the head chains of the current array, then
    of the old array (index order, each from head to tail); then the chains that start at a
    preallocated bucket no head chain reaches (current array, then old). In a map whose buckets
    hold pointers, Go's evacuate clears only the head old bucket's overflow word, so what
    follows a preallocated bucket of that chain stays reachable through it until the grow
    ends."""
    lay = m.layout
    bs = lay.bucketsize
    arrays = []
    if h.buckets:
        arrays.append((False, h.buckets, h.B))
    if h.growing():
        arrays.append((True, h.oldbuckets, h.old_B()))
    for is_old, base, b in arrays:
        for i, addr, data in walker.array(base, 1 << b):
            for depth, (baddr, bdata) in enumerate(walker.chain(addr, data)):
                yield is_old, i, depth, baddr, bdata, data, False
    for is_old, base, b in arrays:
        for i in range(1 << b, lay.nbuckets(b)):
            paddr = base + i * bs
            if paddr in walker.visited:
                continue
            pdata = gomap_read(paddr, bs)
            ovf = gomap_le(pdata, lay.overflow_offset(), GOMAP_PTR_SIZE)
            if ovf == 0 or ovf == base:
                continue  # unused, or the sentinel of the last preallocated bucket
            walker._take(paddr)
            for depth, (baddr, bdata) in enumerate(walker.chain(paddr, pdata)):
                yield is_old, i, depth, baddr, bdata, pdata, True


def gomap_or_text(fn):
    try:
        return str(fn())
    except GomapTruncated:
        return "(more than gomap-max-buckets)"


def gomap_cut(s, n):
    return s if len(s) <= n else s[:n - 1] + "\u2026"


def gomap_slot_table(m, baddr, bdata):
    """The slot table of `map-inspect dump`: slot, tophash, state, key, elem."""
    lay = m.layout
    if not any(bdata):
        gomap_write("    empty: all %d bytes are zero (every slot EMPTY_REST)" % len(bdata))
        return
    rows = []
    for i in range(GOMAP_BUCKET_CNT):
        t = bdata[i]
        if t >= GOMAP_MIN_TOP_HASH:
            ka, ea = m.slot_addrs(baddr, bdata, i)
            k = gomap_cut(gomap_fmt_value(m.value_at(ka, lay.key_type)), 40)
            v = gomap_cut(gomap_fmt_value(m.value_at(ea, lay.elem_type)), 40)
            rows.append((i, t, "live", k, v))
        else:
            rows.append((i, t, gomap_tophash_name(t), "", ""))
    kw = max([3] + [len(r[3]) for r in rows])
    gomap_write("    slot tophash  %-15s  %-*s  elem" % ("state", kw, "key"))
    for i, t, state, k, v in rows:
        if state == "EMPTY_REST" and all(r[2] == "EMPTY_REST" for r in rows[i:]):
            rng = "%d" % i if i == GOMAP_BUCKET_CNT - 1 else "%d-%d" % (i, GOMAP_BUCKET_CNT - 1)
            gomap_write("    %4s    0x00  EMPTY_REST (this and every later slot of the chain "
                        "is empty)" % rng)
            break
        note = {
            "EVACUATED_EMPTY": "(was empty when evacuated)",
            "EMPTY_ONE": "(deleted or never used; later slots may be live)",
            "EVACUATED_X": "(moved to X: the same index in the current array)",
            "EVACUATED_Y": "(moved to Y: its index + the old bucket count)",
        }.get(state, "")
        gomap_write(("    %4d    0x%02x  %-15s  %-*s  %s%s" % (i, t, state, kw, k, v, note))
                    .rstrip())
    ovf = gomap_le(bdata, lay.overflow_offset(), GOMAP_PTR_SIZE)
    gomap_write("    overflow  %s" % ("nil" if ovf == 0 else "%#x" % ovf))


def gomap_region_labels(regions, start, end):
    """Labels of the regions overlapping [start, end); runs of keys/elems as `keys 0-1`."""
    hit = [lab for (o, size, lab) in regions if o < end and start < o + max(size, 1)]
    out = []
    for lab in hit:
        m = re.match(r"^(key|elem) (\d+)$", lab)
        if m and out:
            prev = re.match(r"^(key|elem)s? (\d+)(?:-(\d+))?$", out[-1])
            if prev and prev.group(1) == m.group(1):
                out[-1] = "%ss %s-%s" % (m.group(1), prev.group(2), m.group(2))
                continue
        out.append(lab)
    return ", ".join(out)


def gomap_hex_lines(addr, data, regions):
    """The hex dump of `map-inspect dump`: address, 16 bytes, ASCII gutter, region labels;
    runs of identical lines squeezed into one `*` line."""
    out = []
    prev = None
    squeezed = None

    def flush():
        if squeezed is not None:
            a, b = squeezed
            n = (b - a + 15) // 16
            out.append("%18s  %d more line%s like the one above: %s" % (
                "*", n, "" if n == 1 else "s", gomap_region_labels(regions, a, b)))

    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        if chunk == prev and len(chunk) == 16:
            squeezed = (squeezed[0] if squeezed else off, off + 16)
            continue
        flush()
        squeezed = None
        prev = chunk
        hexs = ""
        ascii_part = ""
        for k in range(16):
            if k == 8:
                hexs += " "
            if k < len(chunk):
                c = chunk[k]
                hexs += "%02x " % c
                ascii_part += chr(c) if 0x20 <= c < 0x7F else "."
            else:
                hexs += "   "
                ascii_part += " "
        out.append("%#018x  %s |%s|  %s" % (addr + off, hexs, ascii_part,
                                           gomap_region_labels(regions, off, off + len(chunk))))
    flush()
    return out


class GomapHexdumpCommand(GomapSubcommand):
    """gomap hexdump EXPR [BUCKET] [--old]: labelled hex of the header and bucket memory.

Without BUCKET: the header, then every bucket of the array with its overflow chain.
With BUCKET: that bucket and its overflow chain.
A Swiss map: gomap hexdump EXPR [TABLE [GROUP]]: the header and every group, or the
groups of one table, or one group."""

    def __init__(self):
        super().__init__("hexdump")

    def run(self, arg):
        expr, nums, old = gomap_parse_args(arg, 2)
        m, addr = gomap_resolve(expr)
        gomap_check_target()
        if isinstance(m, GomapSwissMap):
            if old:
                raise GomapError("a Swiss map has no old buckets")
            gomap_swiss_hexdump(m, addr, nums[0] if nums else None,
                                nums[1] if len(nums) > 1 else None)
            return
        if len(nums) > 1:
            raise GomapError("a classic map takes one BUCKET number")
        bucket = nums[0] if nums else None
        if m is None:
            h = GomapHeader(addr)
            gomap_write("hmap (%d bytes at %#x)" % (GOMAP_HMAP_SIZE, addr))
            for line in gomap_hex_lines(addr, h.raw, GOMAP_HMAP_FIELDS_AS_REGIONS):
                gomap_write(line)
            return
        h = m.header()
        lay = m.layout
        if bucket is None:
            gomap_write("hmap (%d bytes at %#x)" % (h.size, addr))
            regions = sorted((off, size, name) for name, off, size in h.fields)
            for line in gomap_hex_lines(addr, h.raw, regions):
                gomap_write(line)
        base, b = (h.oldbuckets, h.old_B()) if old else (h.buckets, h.B)
        if base == 0:
            gomap_write("(%s is nil)" % ("oldbuckets" if old else "buckets"))
            return
        n = 1 << b
        if bucket is not None and bucket >= n:
            raise GomapError("bucket %d does not exist: the array has %s"
                             % (bucket, gomap_plural(n, "bucket")))
        walker = GomapWalker(lay)
        try:
            if bucket is None:
                heads = walker.array(base, n)
            else:
                a = base + bucket * lay.bucketsize
                walker._take(a)
                heads = [(bucket, a, gomap_read(a, lay.bucketsize))]
            regions = lay.regions()
            heap_ids = {}
            for i, a, data in heads:
                for depth, (baddr, bdata) in enumerate(walker.chain(a, data)):
                    ident, what = m.bucket_title(h, baddr, i, depth, old, heap_ids, data)
                    gomap_write("  %s %#x  %s" % (ident, baddr, what))
                    for line in gomap_hex_lines(baddr, bdata, regions):
                        gomap_write("    " + line)
        except GomapTruncated:
            gomap_write("... walk stopped after %d buckets (set gomap-max-buckets N)"
                        % gomap_max_buckets())


GOMAP_HMAP_FIELDS_AS_REGIONS = [(off, size, name) for name, off, size in GOMAP_HMAP_FIELDS]


def gomap_constants():
    """Every number this script assumes, for the agreement test with gomap::layout."""
    return {
        "PTR_SIZE": GOMAP_PTR_SIZE,
        "BUCKET_CNT_BITS": GOMAP_BUCKET_CNT_BITS,
        "BUCKET_CNT": GOMAP_BUCKET_CNT,
        "LOAD_FACTOR_NUM": GOMAP_LOAD_FACTOR_NUM,
        "LOAD_FACTOR_DEN": GOMAP_LOAD_FACTOR_DEN,
        "MAX_KEY_SIZE": GOMAP_MAX_KEY_SIZE,
        "MAX_ELEM_SIZE": GOMAP_MAX_ELEM_SIZE,
        "DATA_OFFSET": GOMAP_DATA_OFFSET,
        "MAX_INLINE_ALIGN": GOMAP_MAX_INLINE_ALIGN,
        "EMPTY_REST": GOMAP_EMPTY_REST,
        "EMPTY_ONE": GOMAP_EMPTY_ONE,
        "EVACUATED_X": GOMAP_EVACUATED_X,
        "EVACUATED_Y": GOMAP_EVACUATED_Y,
        "EVACUATED_EMPTY": GOMAP_EVACUATED_EMPTY,
        "MIN_TOP_HASH": GOMAP_MIN_TOP_HASH,
        "flags": {name: bit for bit, name in GOMAP_FLAGS},
        "tophash_names": {str(t): name for t, name in GOMAP_TOPHASH_NAMES.items()},
        "hmap": {name: [off, size] for name, off, size in GOMAP_HMAP_FIELDS},
        "HMAP_SIZE": GOMAP_HMAP_SIZE,
        "mapextra": {name: [off, size] for name, off, size in GOMAP_MAPEXTRA_FIELDS},
        "MAPEXTRA_SIZE": GOMAP_MAPEXTRA_SIZE,
        "MAX_SMALL_SIZE": GOMAP_MAX_SMALL_SIZE,
        "PAGE_SIZE": GOMAP_PAGE_SIZE,
        "CLASS_TO_SIZE": GOMAP_CLASS_TO_SIZE,
        "swiss": {
            "GROUP_SLOTS": GOMAP_SWISS_GROUP_SLOTS,
            "CTRL_EMPTY": GOMAP_SWISS_CTRL_EMPTY,
            "CTRL_DELETED": GOMAP_SWISS_CTRL_DELETED,
            "MAX_TABLE_CAPACITY": GOMAP_SWISS_MAX_TABLE_CAPACITY,
            "MAX_AVG_GROUP_LOAD": GOMAP_SWISS_MAX_AVG_GROUP_LOAD,
            "MAX_INLINE": GOMAP_SWISS_MAX_INLINE,
            "MAX_GLOBAL_DEPTH": GOMAP_SWISS_MAX_GLOBAL_DEPTH,
            "map_fields": sorted(GOMAP_SWISS_MAP_FIELDS + GOMAP_SWISS_MAP_OPTIONAL),
            "table_fields": sorted(GOMAP_SWISS_TABLE_FIELDS),
            "max_growth_left": {str(1 << b): gomap_swiss_max_growth_left(1 << b)
                                for b in range(3, 11)},
            "ctrl_names": {str(c): gomap_swiss_ctrl_name(c) for c in range(256)},
        },
    }


def gomap_layout_table(cases):
    """For [[key_size, key_align, elem_size, elem_align, B], ...]: what the script computes."""
    out = []
    for ks, ka, es, ea, b in cases:
        lay = GomapLayout(ks, ka, es, ea)
        out.append({
            "indirect_key": lay.indirect_key, "indirect_elem": lay.indirect_elem,
            "keysize": lay.keysize, "elemsize": lay.elemsize, "bucketsize": lay.bucketsize,
            "key_offsets": [lay.key_offset(i) for i in range(GOMAP_BUCKET_CNT)],
            "elem_offsets": [lay.elem_offset(i) for i in range(GOMAP_BUCKET_CNT)],
            "overflow_offset": lay.overflow_offset(), "nbuckets": lay.nbuckets(b),
        })
    return out


class GomapConstantsCommand(GomapSubcommand):
    """gomap constants [LAYOUTS-JSON]: the constants this script assumes, as JSON.

With an argument [[key_size, key_align, elem_size, elem_align, B], ...], prints the
bucket layouts the script computes for those cases instead."""

    def __init__(self):
        super().__init__("constants")

    def run(self, arg):
        if arg.strip():
            try:
                cases = json.loads(arg)
                gomap_write(json.dumps(gomap_layout_table(cases)))
            except (ValueError, TypeError) as e:
                raise GomapError("expected [[key_size, key_align, elem_size, elem_align, B], "
                                 "...]: %s" % e)
        else:
            gomap_write(json.dumps(gomap_constants(), sort_keys=True))


class GomapMaxBuckets(gdb.Parameter):
    """How many buckets one gomap walk (print, gomap buckets/hexdump) may visit."""

    set_doc = "Set the most buckets one gomap walk may visit."
    show_doc = "Show the most buckets one gomap walk may visit."

    def __init__(self):
        super().__init__("gomap-max-buckets", gdb.COMMAND_DATA, gdb.PARAM_ZUINTEGER)
        self.value = GOMAP_DEFAULT_MAX_BUCKETS

    def get_show_string(self, svalue):
        return "A gomap walk visits at most %s buckets." % svalue


# ---------------------------------------------------------------------------------------------
# Registration. State lives on the gdb module so that loading the script again (two binaries
# that both embed it, or a manual `source`) replaces the previous registration.

def gomap_ensure_first():
    """Puts the lookup at the front of every objfile's and the global printer list."""
    lookup = gdb.gomap_state["lookup"]
    lists = [gdb.current_progspace().pretty_printers]
    lists += [o.pretty_printers for o in gdb.objfiles() if o.is_valid()]
    # Lists that hold other printers (runtime-gdb.py's, Rust's) are searched before the
    # global one: join them, in front. The global list covers everything else.
    lists = [gdb.pretty_printers] + [lst for lst in lists if [p for p in lst if p is not lookup]]
    for lst in lists:
        if lst[:1] != [lookup]:
            while lookup in lst:
                lst.remove(lookup)
            lst.insert(0, lookup)


def gomap_on_new_objfile(event):
    # Types of a newly loaded objfile may share names with cached ones (the same program
    # rebuilt by another Go): forget the Swiss layouts learnt so far.
    GOMAP_SWISS_LAYOUTS.clear()
    # runtime-gdb.py is auto-loaded after this event and resets the objfile's printer list;
    # run again once gdb is back in its event loop.
    try:
        gdb.post_event(gomap_ensure_first)
    except Exception:
        pass


def gomap_on_stop(event):
    try:
        gomap_ensure_first()
    except Exception:
        pass


def gomap_register():
    prev = getattr(gdb, "gomap_state", None)
    if prev is not None:
        for lst in [gdb.pretty_printers, gdb.current_progspace().pretty_printers] + [
                o.pretty_printers for o in gdb.objfiles() if o.is_valid()]:
            while prev["lookup"] in lst:
                lst.remove(prev["lookup"])
        for ev, fn in prev["handlers"]:
            try:
                ev.disconnect(fn)
            except Exception:
                pass
    handlers = [(gdb.events.new_objfile, gomap_on_new_objfile), (gdb.events.stop, gomap_on_stop)]
    if hasattr(gdb.events, "before_prompt"):
        handlers.append((gdb.events.before_prompt, gomap_on_stop))
    for ev, fn in handlers:
        ev.connect(fn)
    gdb.gomap_state = {"lookup": GomapLookup(), "handlers": handlers}
    GomapCommand()
    GomapInfoCommand()
    GomapBucketsCommand()
    GomapHexdumpCommand()
    GomapConstantsCommand()
    GomapMaxBuckets()
    gomap_ensure_first()


gomap_register()
