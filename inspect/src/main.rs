//! The `map-inspect` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use map_inspect::{replay, script};

/// Look inside Go 1.19 maps: header, flag bits, tophash states, bucket memory.
#[derive(Parser)]
#[command(name = "map-inspect", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an operation script on gomap and print Go's map memory at each `dump`, as JSON.
    ///
    /// The output is the same JSON the Go oracle (tests/go-oracle) writes for a real Go
    /// 1.19 map, so the two can be compared; it also answers "what would Go's map look like
    /// after these operations". See the README for the script language and the JSON schema.
    ///
    /// Example: map-inspect replay examples/grow.script --hashkey 0x2545f4914f6cdd1d
    #[command(verbatim_doc_comment)]
    Replay {
        /// The script file (`-` for standard input).
        script: PathBuf,
        /// Go's runtime.hashkey[0] to hash with (default: the script's `hashkey`, else random).
        #[arg(long, value_parser = parse_u64)]
        hashkey: Option<u64>,
        /// The hash0 values to draw, comma-separated, in order: at make, at a reseed when the
        /// map becomes empty, at clear (default: the script's `hash0`, else random).
        #[arg(long, value_delimiter = ',', value_parser = parse_u32)]
        hash0: Option<Vec<u32>>,
        /// Print compact JSON on one line.
        #[arg(long)]
        compact: bool,
    },
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

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Replay {
            script: path,
            hashkey,
            hash0,
            compact,
        } => {
            let text = read_input(&path)?;
            let s = script::parse(&text).map_err(|e| format!("{}:{e}", path.display()))?;
            let opts = replay::Options {
                hashkey,
                hash0,
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
            let json = if compact {
                serde_json::to_string(&out.trace)
            } else {
                serde_json::to_string_pretty(&out.trace)
            }
            .map_err(|e| e.to_string())?;
            print_stdout(&json)
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
            eprintln!("map-inspect: error: {e}");
            ExitCode::FAILURE
        }
    }
}
