//! The `map-inspect` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use map_inspect::check::{self, CheckOptions};
use map_inspect::demo::DemoOptions;
use map_inspect::dump::{self, DumpOptions, Failure, Format, MapsOptions, Source, Target};
use map_inspect::render::Style;
use map_inspect::report::{Arrays, Filter};
use map_inspect::{replay, script};

/// Look inside Go maps: classic maps (Go 1.19–1.25) and Swiss tables (Go 1.24–1.27).
#[derive(Parser)]
#[command(
    name = "map-inspect",
    version,
    about,
    long_about = "Look inside Go maps. Classic maps (Go 1.19–1.23, and 1.24–1.25 built with \
GOEXPERIMENT=noswissmap): the hmap header, its flag bits, every bucket's tophash states, keys, \
elems and raw bytes, overflow chains, old buckets mid-grow and their evacuation marks, \
preallocated overflow buckets. Swiss-table maps (Go 1.24–1.27): the Map header, the \
directory, every table and group with its control bytes, slots and raw bytes, and what the \
next insert into each table would do.\n\n\
The maps come from a built-in demo (a gomap map stopped mid-grow), a snapshot file, a live \
process (a Go program or a Rust program using gomap), read with process_vm_readv, or a core \
file.",
    after_help = "Examples:
  map-inspect dump                                  the demo: a map stopped mid-grow
  map-inspect dump --types string:int64 --keys 100  the demo with other types and sizes
  map-inspect dump map.snap --bucket 3              bucket 3 of a snapshot, with its chain
  map-inspect dump --format html -o map.html        the demo as a picture, to open in a browser
  map-inspect maps --pid 4242                       the map variables of a Go program
  map-inspect dump --pid 4242 main.cache            one of them, by name
  map-inspect dump --core core.4242 main.cache --table 1 --group 3
                                                    one group of a Swiss map in a core file
  map-inspect replay examples/grow.script           Go's map memory after a script, as JSON
  map-inspect replay examples/grow.script --format html -o grow.html
                                                    ... as pictures, with a stepper
  map-inspect check --pid 4242 main.cache           is the map right, by Go's own rules and hash?
  map-inspect get --core core.4242 main.byID 17      look a key up as the Go runtime would

Run `map-inspect dump --help` for every dump option."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show a map's header, flags, extra, buckets (tophash states, keys, elems, hex dumps),
    /// overflow chains, old buckets and a summary: from the demo, a snapshot, or a process.
    ///
    /// With no FILE and no --pid, dumps the built-in demo: a gomap map built in this process
    /// and stopped in the middle of a grow, so that old buckets, evacuation marks
    /// (EVACUATED_X/Y/EMPTY), overflow chains and preallocated buckets all show. The demo
    /// inserts --keys keys, deletes --deletes of them, then inserts new keys until a grow
    /// starts and makes --grow-writes more writes.
    ///
    /// Examples:
    ///   map-inspect dump                                 the demo
    ///   map-inspect dump --no-hex --new                  the demo, current array, no hex
    ///   map-inspect dump --types uint64:string --keys 200 --deletes 20
    ///   map-inspect dump --save-snapshot demo.snap       ... and keep it in a file
    ///   map-inspect dump demo.snap --format json         a snapshot, as JSON
    ///   map-inspect dump --pid 4242 main.cache --format html -o cache.html
    ///                                                    a Go map as a picture
    ///   map-inspect dump --pid 4242 --addr 0x7ffd5a1c2e40 --types u64:u64
    ///                                                    a gomap map in a Rust process
    ///   map-inspect dump --go --pid 4242 --addr 0xc000076000 --key-size 8 --elem-size 16
    ///                                                    a Go map, sizes only
    #[command(verbatim_doc_comment)]
    Dump(Box<DumpArgs>),
    /// List every map-typed package-level variable of a Go program (a live process or a core
    /// file): name, type, map pointer, count and size (classic maps: B and grow state; Swiss
    /// maps: tables and groups). Needs the program's DWARF.
    ///
    /// Examples:
    ///   map-inspect maps --pid 4242
    ///   map-inspect maps --core core.4242 --exe ./server --format json
    ///   map-inspect maps --pid 4242 main.           only the variables of package main
    #[command(verbatim_doc_comment)]
    Maps(MapsArgs),
    /// Check a map against Go's rules, with the runtime's own hash: every live entry in the
    /// bucket its hash selects (or the old bucket not yet evacuated) with the right tophash,
    /// no key live twice, count equal to the live slots, evacuation marks agreeing with
    /// nevacuate and with the hash (X/Y), overflow chains acyclic and readable. A Swiss-table
    /// map (Go 1.24+): every full slot with its key's H2, in the table the directory gives,
    /// before any group with an empty slot on its probe sequence; no key full twice; used
    /// (map and tables) equal to the full slots; growthLeft agreeing with the deleted slots;
    /// the directory well formed.
    ///
    /// Prints "map is consistent (N entries checked)", or every violation with its bucket or
    /// group, slot, key and what Go's rules expect there. Exit status: 0 consistent, 1 not, 2 when
    /// the check cannot run (an interface key type, a stripped binary, memory that is not a
    /// map).
    ///
    /// The hash: for a Go program, the algorithm its runtime chose (AES, or the portable hash
    /// of its Go version) with the keys it drew (runtime.aeskeysched, runtime.hashkey), read
    /// from the process or core file; for a gomap map, gomap's hasher (--hashkey, or the
    /// process's gomap::hash::HASHKEY).
    ///
    /// Examples:
    ///   map-inspect check --pid 4242 main.cache
    ///   map-inspect check --core core.4242 main.svc.byID --format json
    ///   map-inspect check --pid 4242 --addr 0xc000076000 --types uint64:string
    ///   map-inspect check map.snap --hashkey 0x2545f4914f6cdd1d
    ///   map-inspect check                                the demo
    #[command(verbatim_doc_comment)]
    Check(Box<CheckArgs>),
    /// Look keys up the way the Go runtime does (mapaccess): the hash, the bucket and tophash
    /// (Swiss tables: H1, H2, the directory entry and table, the probe sequence), every bucket
    /// or group visited and each slot compared, and the result: the elem, or absent.
    ///
    /// Keys are in Go syntax for the map's key type: 42, -7, 0x2a, 'a', "abc", `raw`, 1.5,
    /// NaN, true, [3]byte{1,2,3} (or "abc" for a byte array), {A:1 B:"x"}, main.Key{A:1,
    /// B:"x"} (what fmt's %#v prints). Quote them for the shell.
    ///
    /// Examples:
    ///   map-inspect get --pid 4242 main.cache '"user-17"'
    ///   map-inspect get --core core.4242 main.byID 17 18 19
    ///   map-inspect get --pid 4242 main.points '{X:1 Y:2}'
    ///   map-inspect get --pid 4242 --addr 0xc000076000 --types uint64:string 42
    ///   map-inspect get map.snap 42 --hashkey 0x2545f4914f6cdd1d
    #[command(verbatim_doc_comment, allow_negative_numbers = true)]
    Get(Box<CheckArgs>),
    /// Run an operation script on gomap and show Go's map memory at each `dump`: as JSON
    /// (the default), as `dump`'s text, or as one HTML page with a stepper.
    ///
    /// The JSON is the same the Go oracle (tests/go-oracle) writes for a real Go 1.19 map,
    /// so the two can be compared; it also answers "what would Go's map look like after
    /// these operations". The README documents the JSON schema.
    ///
    /// Examples:
    ///   map-inspect replay examples/grow.script --hashkey 0x2545f4914f6cdd1d
    ///   map-inspect replay examples/grow.script --format text | less -R
    ///   map-inspect replay examples/grow.script --format html -o grow.html
    ///   map-inspect replay examples/grow.script --save-snapshots steps/
    #[command(verbatim_doc_comment, after_help = SCRIPT_GRAMMAR)]
    Replay(ReplayArgs),
}

/// The replay script language, for `replay --help` (the README's "Script language").
const SCRIPT_GRAMMAR: &str = "\
Script language: one operation per line; # starts a comment.
  hashkey 0x...            optional, before map: Go's runtime.hashkey[0] (default: random)
  hash0 0x... [0x...]      optional, before map: the hash0 draws in order: at make, at each
                           reseed when the map becomes empty, at each clear (default: random)
  map <K> <V> [hint]       make(map[K]V, hint); the first operation, one map per script
  insert <k> <v>           m[k] = v
  delete <k>               delete(m, k)
  range insert <from> <to> [step]
                           for i := from; i < to; i += step { m[K(i)] = V(i) }
  range delete <from> <to> [step]
                           for i := from; i < to; i += step { delete(m, K(i)) }
  clear                    Go 1.19's runtime.mapclear
  dump [label]             record the memory
  dumpgrowing [label]      record it only while a grow is in progress

Types: bool, int8..int64, uint8..uint64 (also i8.., u8.., int, uint, uintptr), float32,
float64 (f32, f64), string, [N]uint8 ([N]byte, [N]u8, N <= 1024; above 128 bytes a key or
elem is stored indirectly).
Values: integers in decimal or 0x hex; floats as Go writes them (1.5, -0, +Inf); strings bare
or Go-quoted (\"a b\\n\", escapes \\\\ \\\" \\n \\t \\r \\0 \\xNN); [N]uint8 as 0x plus 2N hex digits, a
quoted string (zero-padded) or an integer (little-endian). In a range, i becomes the
integer, the float, its decimal digits for a string, its little-endian bytes for [N]uint8.
An error names its line number and exits non-zero.

Example (examples/grow.script):
  map uint64 uint64
  range insert 0 8
  dump one full bucket, B=0
  insert 8 8
  dump after the 9th insert: B=1";

#[derive(Args)]
struct ReplayArgs {
    /// The script file (`-` for standard input). Example: examples/grow.script
    script: PathBuf,
    /// Go's runtime.hashkey[0] to hash with (default: the script's `hashkey`, else random).
    /// Example: --hashkey 0x2545f4914f6cdd1d
    #[arg(long, value_parser = parse_u64)]
    hashkey: Option<u64>,
    /// The hash0 values to draw, comma-separated, in order: at make, at a reseed when the
    /// map becomes empty, at clear (default: the script's `hash0`, else random).
    /// Example: --hash0 0xcb3daafa
    #[arg(long, value_delimiter = ',', value_parser = parse_u32)]
    hash0: Option<Vec<u32>>,
    /// Output format: json (schema gomap-replay/1), text (each dump as `dump` prints it,
    /// after the script lines that led to it), or html (one page: the picture of each dump,
    /// a stepper, the changed slots highlighted). Example: --format html -o grow.html
    #[arg(long, value_enum, default_value = "json")]
    format: ReplayFormatArg,
    /// Print compact JSON on one line. Example: --compact
    #[arg(long)]
    compact: bool,
    /// Colour the text output: auto (only on a terminal), always, never.
    /// Example: --color always | less -R
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorArg,
    /// Leave out the bucket bytes (text: the hex dumps; html: the hex shown on a click).
    /// Example: --no-hex
    #[arg(long)]
    no_hex: bool,
    /// Write the output to FILE instead of standard output. Example: -o grow.html
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write each dump's snapshot into DIR (dump-001.snap, dump-002.snap, ...), to
    /// open with `dump`, `check` or `get`. Example: --save-snapshots steps/
    #[arg(long, value_name = "DIR")]
    save_snapshots: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum ReplayFormatArg {
    /// The gomap-replay/1 JSON document (the README's schema).
    Json,
    /// Each dump rendered as `dump` renders it, after the script lines that led to it.
    Text,
    /// One self-contained HTML page: each dump's picture, with a stepper.
    Html,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// Tables, slot lists and labelled hex dumps.
    Text,
    /// The gomap-dump/1 JSON document (docs/dump-json.md).
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum DumpFormatArg {
    /// A first screen (header, grow state, a line per bucket), then tables, slot lists and
    /// labelled hex dumps.
    Text,
    /// The documented JSON (docs/dump-json.md, docs/swiss-dump-json.md).
    Json,
    /// One self-contained HTML page: the map drawn as grids of slots.
    Html,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum ColorArg {
    /// Colour when standard output is a terminal (and NO_COLOR is not set).
    Auto,
    /// Always colour (ANSI escapes).
    Always,
    /// Never colour.
    Never,
}

#[derive(Args)]
struct MapsArgs {
    /// Only the variables whose name contains this. Example: main.
    #[arg(value_name = "FILTER")]
    filter: Option<String>,
    /// A live process. Example: --pid 4242
    #[arg(long, conflicts_with = "core")]
    pid: Option<i32>,
    /// A core file. Example: --core core.4242
    #[arg(long, value_name = "CORE")]
    core: Option<PathBuf>,
    /// The executable (default: /proc/PID/exe, or the one the core file names).
    #[arg(long, value_name = "BIN")]
    exe: Option<PathBuf>,
    /// Output format: text, or JSON (schema gomap-maps/1).
    #[arg(long, value_enum, default_value = "text")]
    format: FormatArg,
    /// Read at most this many MiB of each map's memory.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    limit_mib: u64,
}

#[derive(Args)]
struct DumpArgs {
    /// A snapshot file to read (written by gomap's `Snapshot::to_bytes` or by
    /// `--save-snapshot`); with --pid or --core, the map variable to dump: a Go expression
    /// (pkg.Var with the full import path, .Field through pointers, [i], *p).
    /// Examples: map-inspect dump map.snap; map-inspect dump --pid 4242 main.cache
    #[arg(value_name = "FILE|VAR")]
    file: Option<String>,

    /// Read a live process's memory (process_vm_readv). Name the map (main.cache) or give
    /// --addr. Example: --pid 4242 main.cache
    #[arg(long, conflicts_with = "core", help_heading = "Go program")]
    pid: Option<i32>,
    /// Read an ELF core file (from `gcore PID`, or the kernel's core dump of a crash); the
    /// executable is the one the core names, or --exe. Example: --core core.4242 main.cache
    #[arg(long, value_name = "CORE", help_heading = "Go program")]
    core: Option<PathBuf>,
    /// The program's executable (default: /proc/PID/exe, or the one the core file names).
    /// Example: --exe ./server
    #[arg(long, value_name = "BIN", help_heading = "Go program")]
    exe: Option<PathBuf>,
    /// Address of the map's header in that process: for Go, the map value (a *hmap: print it
    /// with fmt.Printf("%p\n", m)); for gomap, `m.header() as *const _`.
    /// Decimal or 0x hex. Example: --addr 0xc000076000
    #[arg(long, value_parser = parse_u64, help_heading = "Go program")]
    addr: Option<u64>,
    /// The process is a Go program: --types takes Go type names only (implied when its
    /// executable has .go.buildinfo). Example: --go --pid 4242 --addr 0xc000076000 --types uint64:string
    #[arg(long, requires = "pid", help_heading = "Go program")]
    go: bool,
    /// The Go version that built the program, when its executable is not at hand (chooses
    /// the map layout). Example: --go-version 1.22.10
    #[arg(long, value_name = "VERSION", help_heading = "Go program")]
    go_version: Option<String>,
    /// The GOEXPERIMENT settings the program was built with, with --go-version.
    /// Example: --go-version 1.24.11 --goexperiment noswissmap
    #[arg(
        long,
        value_name = "LIST",
        requires = "go_version",
        help_heading = "Go program"
    )]
    goexperiment: Option<String>,
    /// Key and elem types, KEY:ELEM: bool, int8..int64, uint8..uint64 (u8.., i8..), int,
    /// uint, uintptr, float32, float64, string, [N]uint8; for gomap maps also usize, isize,
    /// char, u128, i128, (), &str, [u8; N]. Decodes keys and elems; for the demo, chooses
    /// the map's types. Example: --types uint64:string
    #[arg(long, value_name = "KEY:ELEM")]
    types: Option<String>,
    /// Key size in bytes when the types are not known (slots are shown as hex).
    /// Example: --key-size 8 --elem-size 16
    #[arg(long, value_name = "N", help_heading = "Go program")]
    key_size: Option<usize>,
    /// Elem size in bytes when the types are not known. Example: --elem-size 16
    #[arg(long, value_name = "N", help_heading = "Go program")]
    elem_size: Option<usize>,

    /// Demo: keys inserted first (keys 0..N). Example: --keys 200
    #[arg(long, value_name = "N", conflicts_with_all = ["file", "pid", "core"], help_heading = "Demo")]
    keys: Option<usize>,
    /// Demo: the make(map, hint) size hint. Example: --hint 100
    #[arg(long, value_name = "N", conflicts_with_all = ["file", "pid", "core"], help_heading = "Demo")]
    hint: Option<usize>,
    /// Demo: how many of the first keys to delete, evenly spread (they leave EMPTY_ONE
    /// holes). Example: --deletes 10
    #[arg(long, value_name = "N", conflicts_with_all = ["file", "pid", "core"], help_heading = "Demo")]
    deletes: Option<usize>,
    /// Demo: writes after the one that starts a grow (each evacuates at most 2 old
    /// buckets). Example: --grow-writes 3
    #[arg(long, value_name = "N", conflicts_with_all = ["file", "pid", "core"], help_heading = "Demo")]
    grow_writes: Option<usize>,
    /// Demo: stop after operation N (0: right after make). Example: --at-op 40
    #[arg(long, value_name = "N", conflicts_with_all = ["file", "pid", "core"], help_heading = "Demo")]
    at_op: Option<usize>,
    /// Demo: seed of the hashkey and hash0 (the same seed builds the same map).
    /// Example: --seed 42
    #[arg(long, value_name = "N", value_parser = parse_u64, conflicts_with_all = ["file", "pid", "core"], help_heading = "Demo")]
    seed: Option<u64>,
    /// Also write the map's snapshot to FILE (read it back with `dump FILE`): the demo's, or
    /// a Swiss-table map's from --pid or --core. Example: --save-snapshot demo.snap
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    save_snapshot: Option<PathBuf>,

    /// Output format: text; the documented JSON schema (gomap-dump/1 for a classic map,
    /// gomap-swiss-dump/1 for a Swiss-table map); or html, one self-contained page that
    /// draws the map (open it in a browser; a click on a bucket or group shows its bytes).
    /// Example: --format html -o map.html
    #[arg(long, value_enum, default_value = "text", help_heading = "Output")]
    format: DumpFormatArg,
    /// Write the output to FILE instead of standard output. Example: -o map.html
    #[arg(short = 'o', long, value_name = "FILE", help_heading = "Output")]
    output: Option<PathBuf>,
    /// Colour the text output: auto (only on a terminal), always, never.
    /// Example: --color always | less -R
    #[arg(long, value_enum, default_value = "auto", help_heading = "Output")]
    color: ColorArg,
    /// Show only bucket N (with its overflow chain) of the current and old arrays; N past
    /// 2^B picks a preallocated bucket (classic maps). Example: --bucket 3
    #[arg(long, value_name = "N", help_heading = "Output")]
    bucket: Option<usize>,
    /// Swiss-table maps: show only table N (tables are numbered in directory order, as the
    /// dump lists them). Example: --table 1
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "bucket",
        help_heading = "Output"
    )]
    table: Option<usize>,
    /// Swiss-table maps: show only group G of the --table (or of a small map: --group 0).
    /// Example: --table 1 --group 3
    #[arg(
        long,
        value_name = "G",
        conflicts_with = "bucket",
        help_heading = "Output"
    )]
    group: Option<usize>,
    /// Show only the old array (buckets being evacuated). Example: --old
    #[arg(long, conflicts_with = "new", help_heading = "Output")]
    old: bool,
    /// Show only the current array. Example: --new
    #[arg(long, help_heading = "Output")]
    new: bool,
    /// Leave out the hex dumps (and the bytes in JSON). Example: --no-hex
    #[arg(long, help_heading = "Output")]
    no_hex: bool,
    /// Show at most N buckets (Swiss-table maps: groups). Example: --max-buckets 10
    #[arg(long, value_name = "N", help_heading = "Output")]
    max_buckets: Option<usize>,
    /// Read at most this many MiB of map memory (a guard against corrupt headers).
    /// Example: --limit-mib 4096
    #[arg(
        long,
        value_name = "MIB",
        default_value_t = 1024,
        help_heading = "Output"
    )]
    limit_mib: u64,
}

/// Where the map of `check` and `get` is, and how to hash it.
#[derive(Args)]
struct CheckArgs {
    /// check: the map variable (with --pid or --core; a Go expression as for dump), or a
    /// snapshot file, or nothing for the demo. get: the same, then the keys (with --addr: only
    /// keys; without --pid/--core: a snapshot file and keys, or one key of the demo).
    #[arg(value_name = "VAR|FILE [KEY]...")]
    args: Vec<String>,
    /// A live process. Example: --pid 4242 main.cache
    #[arg(long, conflicts_with = "core")]
    pid: Option<i32>,
    /// A core file. Example: --core core.4242 main.cache
    #[arg(long, value_name = "CORE")]
    core: Option<PathBuf>,
    /// The executable (default: /proc/PID/exe, or the one the core file names).
    #[arg(long, value_name = "BIN")]
    exe: Option<PathBuf>,
    /// The map's header address instead of a variable, with --types.
    #[arg(long, value_parser = parse_u64)]
    addr: Option<u64>,
    /// The process is a Go program (implied when its executable has .go.buildinfo).
    #[arg(long, requires = "pid")]
    go: bool,
    /// The Go version, when the executable cannot be read (the hash keys still come from
    /// its symbols, so this is rarely useful).
    #[arg(long, value_name = "VERSION")]
    go_version: Option<String>,
    /// The GOEXPERIMENT settings that go with --go-version.
    #[arg(long, value_name = "LIST", requires = "go_version")]
    goexperiment: Option<String>,
    /// Key and elem types, KEY:ELEM, as for dump (needed with --addr, or without DWARF).
    #[arg(long, value_name = "KEY:ELEM")]
    types: Option<String>,
    /// A gomap map's hashkey (GoHasher::hashkey()): needed for snapshots; for a Rust
    /// process the default is its gomap::hash::HASHKEY. Example: --hashkey 0x2545f4914f6cdd1d
    #[arg(long, value_parser = parse_u64)]
    hashkey: Option<u64>,
    /// The demo: seed of its hashkey and hash0. Example: --seed 42
    #[arg(long, value_parser = parse_u64, conflicts_with_all = ["pid", "core"])]
    seed: Option<u64>,
    /// Output format: text, or JSON (schemas gomap-check/1, gomap-get/1).
    #[arg(long, value_enum, default_value = "text")]
    format: FormatArg,
    /// Read at most this many MiB of map memory.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    limit_mib: u64,
}

impl CheckArgs {
    /// The options; `get` takes keys after the map.
    fn options(self, get: bool) -> Result<CheckOptions, String> {
        let live = self.pid.is_some() || self.core.is_some();
        let mut args = self.args.into_iter();
        let (map_arg, keys): (Option<String>, Vec<String>) = if live {
            if self.addr.is_some() {
                (None, args.collect())
            } else {
                (args.next(), args.collect())
            }
        } else if get {
            let all: Vec<String> = args.collect();
            if all.len() >= 2 {
                (Some(all[0].clone()), all[1..].to_vec())
            } else {
                (None, all)
            }
        } else {
            (args.next(), args.collect())
        };
        if !get && !keys.is_empty() {
            return Err(format!(
                "check takes one map; unexpected {:?} (to look keys up, use get)",
                keys.join(" ")
            ));
        }
        if !live && (self.addr.is_some() || self.exe.is_some() || self.go_version.is_some()) {
            return Err("--addr, --exe and --go-version go with --pid or --core".into());
        }
        let target = match (self.addr, &map_arg) {
            (Some(a), _) if live => Some(Target::Addr(a)),
            (None, Some(v)) if live => Some(Target::Var(v.clone())),
            _ => None,
        };
        let source = if let Some(pid) = self.pid {
            Source::Process { pid, go: self.go }
        } else if let Some(c) = self.core {
            Source::Core(c)
        } else if let Some(f) = &map_arg {
            Source::Snapshot(PathBuf::from(f))
        } else {
            let d = DemoOptions::default();
            Source::Demo(DemoOptions {
                seed: self.seed.unwrap_or(d.seed),
                ..d
            })
        };
        Ok(CheckOptions {
            map: DumpOptions {
                source,
                target,
                exe: self.exe,
                go_version: self.go_version,
                goexperiment: self.goexperiment,
                types: self.types,
                format: match self.format {
                    FormatArg::Text => Format::Text,
                    FormatArg::Json => Format::Json,
                },
                limit_mib: self.limit_mib,
                ..DumpOptions::default()
            },
            hashkey: self.hashkey,
            keys,
        })
    }
}

impl DumpArgs {
    fn options(self) -> Result<DumpOptions, String> {
        let live = self.pid.is_some() || self.core.is_some();
        if !live {
            for (given, what) in [
                (self.addr.is_some(), "--addr"),
                (self.exe.is_some(), "--exe"),
                (self.go_version.is_some(), "--go-version"),
                (
                    self.key_size.is_some() || self.elem_size.is_some(),
                    "--key-size/--elem-size",
                ),
            ] {
                if given {
                    return Err(format!("{what} goes with --pid or --core"));
                }
            }
        }
        let target = match (self.addr, &self.file) {
            (Some(_), Some(v)) if live => {
                return Err(format!("give either a variable ({v}) or --addr, not both"))
            }
            (Some(a), _) => Some(Target::Addr(a)),
            (None, Some(v)) if live => Some(Target::Var(v.clone())),
            _ => None,
        };
        let source = if let Some(pid) = self.pid {
            Source::Process { pid, go: self.go }
        } else if let Some(c) = self.core.clone() {
            Source::Core(c)
        } else if let Some(f) = &self.file {
            Source::Snapshot(PathBuf::from(f))
        } else {
            let d = DemoOptions::default();
            Source::Demo(DemoOptions {
                keys: self.keys.unwrap_or(d.keys),
                hint: self.hint.unwrap_or(d.hint),
                deletes: self.deletes.unwrap_or(d.deletes),
                grow_writes: self.grow_writes.unwrap_or(d.grow_writes),
                at_op: self.at_op,
                seed: self.seed.unwrap_or(d.seed),
                ..d
            })
        };
        let choice = color_choice(self.color);
        Ok(DumpOptions {
            source,
            target,
            exe: self.exe,
            go_version: self.go_version,
            goexperiment: self.goexperiment,
            types: self.types,
            key_size: self.key_size,
            elem_size: self.elem_size,
            save_snapshot: self.save_snapshot,
            format: match self.format {
                DumpFormatArg::Text => Format::Text,
                DumpFormatArg::Json => Format::Json,
                DumpFormatArg::Html => Format::Html,
            },
            color: dump::color_for(
                choice,
                self.output.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()),
            ),
            filter: Filter {
                bucket: self.bucket,
                table: self.table,
                group: self.group,
                arrays: if self.old {
                    Arrays::Old
                } else if self.new {
                    Arrays::New
                } else {
                    Arrays::Both
                },
                max_buckets: self.max_buckets,
                hex: !self.no_hex,
            },
            limit_mib: self.limit_mib,
        })
    }
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("{s:?} is not a number (decimal, or hex with 0x)"))
}

fn parse_u32(s: &str) -> Result<u32, String> {
    let v = parse_u64(s)?;
    u32::try_from(v).map_err(|_| format!("{s} does not fit in 32 bits (hash0 is a uint32)"))
}

fn read_input(path: &PathBuf) -> Result<String, String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| format!("reading standard input: {e}"))?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Dump(args) => {
            let file = args.output.clone();
            let out = dump::prepare(&args.options()?)?;
            write_document(&out.doc, file.as_deref())?;
            match out.unclean {
                Some(why) => Err(why.into()),
                None => Ok(()),
            }
        }
        Command::Maps(args) => {
            let source = match (args.pid, args.core) {
                (Some(pid), None) => Source::Process { pid, go: true },
                (None, Some(c)) => Source::Core(c),
                _ => return Err("maps needs --pid PID or --core CORE".into()),
            };
            let out = dump::maps(&MapsOptions {
                source: Some(source),
                exe: args.exe,
                filter: args.filter,
                format: match args.format {
                    FormatArg::Text => Format::Text,
                    FormatArg::Json => Format::Json,
                },
                limit_mib: args.limit_mib,
            })?;
            print_stdout(out.text.trim_end())?;
            match out.unclean {
                Some(why) => Err(why.into()),
                None => Ok(()),
            }
        }
        Command::Check(args) => {
            let o = args
                .options(false)
                .map_err(|message| Failure { message, code: 2 })?;
            let out = check::check(&o)?;
            print_stdout(out.text.trim_end())?;
            match out.unclean {
                Some(why) => Err(why.into()),
                None => Ok(()),
            }
        }
        Command::Get(args) => {
            let o = args
                .options(true)
                .map_err(|message| Failure { message, code: 2 })?;
            let out = check::get(&o)?;
            Ok(print_stdout(out.text.trim_end())?)
        }
        Command::Replay(args) => {
            let path = &args.script;
            let text = read_input(path)?;
            let s = script::parse(&text).map_err(|e| format!("{}:{e}", path.display()))?;
            let name = path.display().to_string();
            let opts = replay::Options {
                hashkey: args.hashkey,
                hash0: args.hash0.clone(),
                reports: (args.format != ReplayFormatArg::Json).then(|| replay::ReportOptions {
                    name: name.clone(),
                    filter: Filter {
                        hex: !args.no_hex,
                        ..Filter::default()
                    },
                }),
                save_snapshots: args.save_snapshots.clone(),
                ..Default::default()
            };
            let out = replay::run(&s, &opts).map_err(|e| format!("{}:{e}", path.display()))?;
            if out.hash0_given > 0 && out.hash0_used < out.hash0_given {
                eprintln!(
                    "map-inspect: warning: {} hash0 values given, {} used",
                    out.hash0_given, out.hash0_used
                );
            }
            if out.hash0_given > 0 && out.trace.hash0.len() > out.hash0_given {
                eprintln!(
                    "map-inspect: warning: the map drew {} hash0 values but only {} were given; the rest are random",
                    out.trace.hash0.len(),
                    out.hash0_given
                );
            }
            let doc = match args.format {
                ReplayFormatArg::Json => if args.compact {
                    serde_json::to_string(&out.trace)
                } else {
                    serde_json::to_string_pretty(&out.trace)
                }
                .map_err(|e| e.to_string())?,
                ReplayFormatArg::Text => {
                    let color = dump::color_for(
                        color_choice(args.color),
                        args.output.is_none()
                            && std::io::IsTerminal::is_terminal(&std::io::stdout()),
                    );
                    replay::render_text(&out, &text, &name, Style { color })
                }
                ReplayFormatArg::Html => map_inspect::html::replay_page(&out, &text, &name),
            };
            let doc = dump::Document::Rendered(doc);
            Ok(write_document(&doc, args.output.as_deref())?)
        }
    }
}

fn color_choice(c: ColorArg) -> &'static str {
    match c {
        ColorArg::Auto => "auto",
        ColorArg::Always => "always",
        ColorArg::Never => "never",
    }
}

/// Writes `dump`'s document to FILE (and says so on standard error) or to standard output,
/// as it is serialized; a closed pipe (`| head`) ends the program quietly.
fn write_document(doc: &dump::Document, file: Option<&std::path::Path>) -> Result<(), String> {
    use std::io::Write;
    match file {
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            match doc.write_to(&mut out).and_then(|_| out.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(format!("writing output: {e}")),
            }
        }
        Some(f) => {
            let fail = |e: std::io::Error| format!("cannot write {}: {e}", f.display());
            let mut w = std::io::BufWriter::new(std::fs::File::create(f).map_err(fail)?);
            let n = doc.write_to(&mut w).map_err(fail)?;
            w.into_inner()
                .map_err(|e| fail(e.into_error()))?
                .sync_all()
                .map_err(fail)?;
            eprintln!("map-inspect: wrote {} ({n} bytes)", f.display());
            Ok(())
        }
    }
}

/// Prints to standard output; a closed pipe (`| head`) ends the program quietly.
fn print_stdout(s: &str) -> Result<(), String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{s}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("writing output: {e}")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("map-inspect: error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
