//! Finding the Go toolchains, for the tests that build and run Go programs (here and in
//! `inspect/tests`, which include this file by path).
//!
//! `scripts/go-toolchains` installs every version the tests use into one cache folder,
//! `$GOMAP_GO_CACHE` (default `~/.cache/gomap-go`), as `go-VERSION/go/bin/go`. That variable is
//! the only setting; `./scripts/test-all` runs the script first.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The cache folder of Go toolchains.
pub(crate) fn go_cache() -> PathBuf {
    match std::env::var_os("GOMAP_GO_CACHE") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/gomap-go"),
    }
}

/// The `go` command of the toolchain whose version starts with `version` ("1.19", "1.22",
/// "1.24.11"), checked by running `go version`; or an explanation of how to install it.
pub(crate) fn go_toolchain(version: &str) -> Result<PathBuf, String> {
    let cache = go_cache();
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir(&cache) {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(v) = name.strip_prefix("go-") else {
                continue;
            };
            if v == version || v.starts_with(&format!("{version}.")) {
                found.push((v.to_string(), e.path().join("go/bin/go")));
            }
        }
    }
    found.sort();
    for (v, go) in found.into_iter().rev() {
        if let Ok(out) = Command::new(&go).arg("version").output() {
            if String::from_utf8_lossy(&out.stdout).contains(&format!("go{v}")) {
                return Ok(go);
            }
        }
    }
    Err(format!(
        "Go {version} not found in {}: run `scripts/go-toolchains {version}` (or \
         ./scripts/test-all, which installs every toolchain the tests use)",
        cache.display()
    ))
}

/// Go 1.19's `go` command, or an explanation of how to install it.
pub(crate) fn find_go() -> Result<PathBuf, String> {
    go_toolchain("1.19")
}
