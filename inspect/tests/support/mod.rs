//! Shared helpers of the `map-inspect dump` tests: running the binary with a time limit,
//! building the target programs (the `hold_gomap` example, the Go 1.19 program in
//! `tests/go-live`), and validating JSON against a JSON Schema.

pub(crate) mod browser;
pub(crate) mod gdbvalue;
pub(crate) mod goprog;
pub(crate) mod schema;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[path = "../../../tests/common/go.rs"]
mod go_toolchain;
use go_toolchain::find_go;

/// The `map-inspect` binary under test.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_map-inspect")
}

/// What a finished command printed.
#[derive(Debug)]
pub(crate) struct Out {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Waits for `child` at most `limit`, reading its output meanwhile; kills it and panics
/// when the limit passes.
pub(crate) fn wait_with_limit(mut child: Child, limit: Duration, what: &str) -> Out {
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut v);
            }
            v
        })
    };
    let so = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let se = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait().expect("try_wait") {
            Some(st) => break st,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what}: still running after {limit:?} (a hang)");
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    Out {
        status,
        stdout: String::from_utf8_lossy(&so.join().expect("stdout reader")).into_owned(),
        stderr: String::from_utf8_lossy(&se.join().expect("stderr reader")).into_owned(),
    }
}

/// Runs `map-inspect ARGS` with a time limit.
pub(crate) fn run(args: &[&str], limit: Duration) -> Out {
    let child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn map-inspect");
    wait_with_limit(child, limit, &format!("map-inspect {}", args.join(" ")))
}

/// Runs `map-inspect ARGS`, which must succeed, and returns its standard output.
pub(crate) fn run_ok(args: &[&str]) -> String {
    run_ok_within(args, Duration::from_secs(60))
}

/// Runs `map-inspect ARGS`, which must succeed within `limit`, and returns its standard output.
pub(crate) fn run_ok_within(args: &[&str], limit: Duration) -> String {
    let out = run(args, limit);
    assert!(
        out.status.success(),
        "map-inspect {} failed ({}): {}",
        args.join(" "),
        out.status,
        out.stderr
    );
    out.stdout
}

/// Asserts a clean failure: exit status `code` (never 0), no panic, and one error line
/// `map-inspect: error: …` that names each of `wants`.
pub(crate) fn fails(out: &Out, code: i32, wants: &[&str], what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{what}: {}", out.stderr);
    let line = out.stderr.trim();
    assert!(line.starts_with("map-inspect: error: "), "{what}: {line}");
    assert_eq!(line.lines().count(), 1, "{what}: {line}");
    for w in wants {
        assert!(line.contains(w), "{what}: {line:?} does not say {w:?}");
    }
}

/// A directory for this test binary's files.
pub(crate) fn tmp_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&d).expect("create the temp dir");
    d
}

/// The `hold_gomap` example, built with this test's profile (`cargo build --example`, a
/// no-op when `cargo test` already built it), so that a stale binary is never used.
pub(crate) fn hold_gomap() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        // target/<profile>/deps/<test> → target/<profile>/examples/hold_gomap
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test binary is in target/<profile>/deps");
        let bin = profile_dir.join("examples").join("hold_gomap");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args([
            "build",
            "-q",
            "-p",
            "map-inspect",
            "--example",
            "hold_gomap",
        ]);
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let st = cmd.status().expect("run cargo build --example hold_gomap");
        assert!(st.success(), "cargo build --example hold_gomap failed");
        assert!(bin.exists(), "{} was not built", bin.display());
        bin
    })
}

/// The Go 1.19 target program (`tests/go-live`), built once per test run. `None` means
/// "skip": Go is missing and this is not CI (in CI a missing Go fails the test).
pub(crate) fn go_live() -> Option<&'static Path> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        let go = match find_go() {
            Ok(g) => g,
            Err(e) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("CI: {e}");
                }
                eprintln!(
                    "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                     WARNING: {e}.\nThe live dump test of a real Go 1.19 map is SKIPPED.\n\
                     !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
                );
                return None;
            }
        };
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/go-live");
        let out_dir = tmp_dir("go-live");
        let bin = out_dir.join("go-live");
        let mut cmd = Command::new(&go);
        cmd.current_dir(&src)
            .args(["build", "-o"])
            .arg(&bin)
            .arg(".");
        if std::env::var_os("HOME").is_none() {
            cmd.env("GOCACHE", out_dir.join("cache"))
                .env("GOPATH", out_dir.join("gopath"));
        }
        let st = cmd.output().expect("run go build");
        assert!(
            st.status.success(),
            "go build of tests/go-live failed:\n{}",
            String::from_utf8_lossy(&st.stderr)
        );
        Some(bin)
    })
    .as_deref()
}

/// A target process that printed one JSON line describing its maps and now waits for its
/// standard input to close. Dropping it ends the process.
pub(crate) struct Target {
    child: Child,
    /// The JSON line it printed.
    pub(crate) info: serde_json::Value,
}

impl Target {
    /// Starts `cmd` and reads its JSON line (within 60 s).
    pub(crate) fn start(mut cmd: Command) -> Target {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the target program");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the target program printed nothing within 60 s");
            }
        };
        let info: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("target output {line:?} is not JSON: {e}"));
        assert_eq!(
            info["pid"].as_u64(),
            Some(child.id() as u64),
            "the target must be this test's own child"
        );
        Target { child, info }
    }
    /// Its pid.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
    /// The description of map `name`.
    pub(crate) fn map(&self, name: &str) -> &serde_json::Value {
        self.info["maps"]
            .as_array()
            .expect("maps")
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("no map {name} in {}", self.info))
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The entries of a dump report, as sorted JSON text pairs (so that two sets compare).
pub(crate) fn sorted(mut v: Vec<(serde_json::Value, serde_json::Value)>) -> Vec<(String, String)> {
    let mut s: Vec<(String, String)> = v
        .drain(..)
        .map(|(k, e)| (k.to_string(), e.to_string()))
        .collect();
    s.sort();
    s
}

/// A live process that is not a Go program, to point map-inspect at: a `sleep` child of the
/// test, killed when dropped.
pub(crate) struct Sleeper(pub(crate) Child);

impl Sleeper {
    /// Starts `sleep 60`.
    pub(crate) fn start() -> Sleeper {
        Sleeper(
            Command::new("sleep")
                .arg("60")
                .stdin(Stdio::null())
                .spawn()
                .expect("spawn sleep"),
        )
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `f` on every item, `n` items at a time on their own threads; the first failure is
/// re-raised as it was (its assertion message intact).
pub(crate) fn in_groups<T: Sync>(items: &[T], n: usize, f: impl Fn(&T) + Sync) {
    for group in items.chunks(n) {
        std::thread::scope(|s| {
            let f = &f;
            let hs: Vec<_> = group.iter().map(|t| s.spawn(move || f(t))).collect();
            for h in hs {
                if let Err(e) = h.join() {
                    std::panic::resume_unwind(e);
                }
            }
        });
    }
}
