//! The Go programs of the Go-reading tests (`tests/go-inspect`, `tests/go-hash`), built with
//! each Go version once per machine state: a build is kept in `target/tmp/<program>/<tag>/`
//! with a stamp of its sources and flags, so the live, core and gdb tests (and later test
//! runs) reuse it. Builds of several versions run in parallel threads.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::go_toolchain::go_toolchain;

/// The classic-map Go versions under test, with the GOEXPERIMENT each needs.
pub(crate) const CLASSIC: [(&str, Option<&str>); 6] = [
    ("1.19", None),
    ("1.21", None),
    ("1.22", None),
    ("1.23", None),
    ("1.24", Some("noswissmap")),
    ("1.25", Some("noswissmap")),
];

/// The Swiss-table Go versions under test, with the GOEXPERIMENT each needs (Go 1.27's
/// `mapsplitgroup` groups: keys[8] then elems[8]).
pub(crate) const SWISS: [(&str, Option<&str>); 5] = [
    ("1.24", None),
    ("1.25", None),
    ("1.26", None),
    ("1.27", None),
    ("1.27", Some("mapsplitgroup")),
];

/// One build of the program.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    /// The Go version (a prefix: "1.24").
    pub(crate) version: &'static str,
    /// GOEXPERIMENT.
    pub(crate) experiment: Option<&'static str>,
    /// -ldflags.
    pub(crate) ldflags: &'static str,
    /// A name for the build directory.
    pub(crate) tag: String,
}

impl Spec {
    /// The plain build of a classic version.
    pub(crate) fn classic(version: &'static str, experiment: Option<&'static str>) -> Spec {
        Spec {
            version,
            experiment,
            ldflags: "",
            tag: format!("go{version}"),
        }
    }

    /// The plain build of a Swiss-table version.
    pub(crate) fn swiss(version: &'static str, experiment: Option<&'static str>) -> Spec {
        Spec {
            version,
            experiment,
            ldflags: "",
            tag: match experiment {
                None => format!("go{version}-swiss"),
                Some(x) => format!("go{version}-{x}"),
            },
        }
    }
}

fn src_dir(program: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests")
        .join(program)
}

fn stamp(spec: &Spec, go: &Path, src: &Path, overlay: &[PathBuf]) -> String {
    let mut h = DefaultHasher::new();
    let mut files: Vec<PathBuf> = overlay.to_vec();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d)
            .expect("read the Go program's sources")
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files {
        f.to_string_lossy().hash(&mut h);
        std::fs::read(&f).unwrap_or_default().hash(&mut h);
    }
    (spec.version, spec.experiment, spec.ldflags, go).hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Builds (or reuses) one build of `tests/go-inspect`; panics with the compiler's output on
/// failure.
pub(crate) fn build(spec: &Spec) -> PathBuf {
    build_program("go-inspect", spec)
}

/// Builds (or reuses) one build of the Go program in `tests/<program>`, into
/// `target/tmp/<program>/<tag>/<program>`.
pub(crate) fn build_program(program: &str, spec: &Spec) -> PathBuf {
    build_from(spec, &src_dir(program), None)
}

/// Builds (or reuses) one build of the Go program in `src`, with `go build -overlay FILE`
/// when `overlay` names an overlay file (whose own files, and it, are part of the stamp).
pub(crate) fn build_from(spec: &Spec, src: &Path, overlay: Option<(&Path, &[PathBuf])>) -> PathBuf {
    let name = src
        .file_name()
        .expect("a source directory")
        .to_string_lossy()
        .into_owned();
    // Tests run in parallel threads: one build of a tag at a time.
    static LOCKS: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<std::sync::Mutex<()>>>>,
    > = std::sync::OnceLock::new();
    let lock = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(format!("{name}/{}", spec.tag))
        .or_default()
        .clone();
    let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    let go = go_toolchain(spec.version).unwrap_or_else(|e| panic!("{e}"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(&name)
        .join(&spec.tag);
    std::fs::create_dir_all(&dir).expect("create the build dir");
    let bin = dir.join(&name);
    let stamp_path = dir.join("stamp");
    let mut stamped: Vec<PathBuf> = Vec::new();
    if let Some((file, files)) = overlay {
        stamped.push(file.to_path_buf());
        stamped.extend(files.iter().cloned());
    }
    let want = stamp(spec, &go, src, &stamped);
    if bin.exists() && std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(&want) {
        return bin;
    }
    let tmp_bin = dir.join(format!("{name}.tmp{}", std::process::id()));
    let mut cmd = Command::new(&go);
    cmd.current_dir(src)
        .env("GOTOOLCHAIN", "local")
        .env("GOWORK", "off")
        .env("GOFLAGS", "-mod=mod")
        .args(["build", "-o"])
        .arg(&tmp_bin);
    if !spec.ldflags.is_empty() {
        cmd.arg(format!("-ldflags={}", spec.ldflags));
    }
    if let Some((file, _)) = overlay {
        cmd.arg("-overlay").arg(file);
    }
    cmd.arg(".");
    match spec.experiment {
        Some(x) => cmd.env("GOEXPERIMENT", x),
        None => cmd.env_remove("GOEXPERIMENT"),
    };
    if std::env::var_os("HOME").is_none() {
        cmd.env("GOCACHE", dir.join("cache"))
            .env("GOPATH", dir.join("gopath"));
    }
    let out = cmd.output().expect("run go build");
    assert!(
        out.status.success(),
        "go build ({} {:?} {}) of {} failed:\n{}",
        spec.version,
        spec.experiment,
        spec.ldflags,
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp_bin, &bin).expect("move the build into place");
    std::fs::write(&stamp_path, want).expect("write the stamp");
    bin
}

/// Builds several in parallel threads.
pub(crate) fn build_all(specs: &[Spec]) -> Vec<PathBuf> {
    build_all_of("go-inspect", specs)
}

/// Builds several of `tests/<program>` in parallel threads.
pub(crate) fn build_all_of(program: &str, specs: &[Spec]) -> Vec<PathBuf> {
    std::thread::scope(|s| {
        let hs: Vec<_> = specs
            .iter()
            .map(|sp| s.spawn(move || build_program(program, sp)))
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("a build thread panicked"))
            .collect()
    })
}

/// JSON with every integral float turned into an integer, so that Go's `0` and a decoded
/// `0.0` compare equal; objects compare without regard to key order.
pub(crate) fn normalize(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 {
                    return Value::from(f as i64);
                }
            }
            v.clone()
        }
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(o) => {
            let mut m: Vec<(String, Value)> =
                o.iter().map(|(k, v)| (k.clone(), normalize(v))).collect();
            m.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(m.into_iter().collect())
        }
        _ => v.clone(),
    }
}

/// Entries as sorted text pairs (after [`normalize`]).
pub(crate) fn entry_set(v: &[(serde_json::Value, serde_json::Value)]) -> Vec<(String, String)> {
    let mut s: Vec<(String, String)> = v
        .iter()
        .map(|(k, e)| (normalize(k).to_string(), normalize(e).to_string()))
        .collect();
    s.sort();
    s
}

/// The GOROOT of the toolchain whose version starts with `version`.
pub(crate) fn goroot(version: &str) -> PathBuf {
    let go = go_toolchain(version).unwrap_or_else(|e| panic!("{e}"));
    go.parent()
        .and_then(Path::parent)
        .expect("GOROOT/bin/go")
        .to_path_buf()
}

/// A core file that is deleted when dropped, a failing test included (a Go process's core is
/// over 1 GB).
pub(crate) struct CoreFile(pub(crate) PathBuf);

impl CoreFile {
    /// The path, as an argument.
    pub(crate) fn arg(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for CoreFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Takes a core file of a running process with gdb's gcore (the process is stopped while it
/// is written).
pub(crate) fn gcore(pid: u32, dir: &Path, name: &str) -> CoreFile {
    let prefix = dir.join(name);
    let out = Command::new("gcore")
        .arg("-o")
        .arg(&prefix)
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("run gcore (gdb)");
    let core = PathBuf::from(format!("{}.{pid}", prefix.display()));
    assert!(
        core.exists(),
        "gcore wrote no core: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    CoreFile(core)
}
