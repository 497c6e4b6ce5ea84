//! Finding the Go 1.19 toolchain, for the tests that build and run Go programs (here and in
//! `inspect/tests`, which include this file by path).

use std::path::PathBuf;
use std::process::Command;

/// Go 1.19's `go` command (`$GOMAP_GO`, Debian's `/usr/lib/go-1.19/bin/go`, or `go` on the
/// `PATH`), or an explanation of how to install it.
pub(crate) fn find_go() -> Result<PathBuf, String> {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("GOMAP_GO") {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(PathBuf::from("/usr/lib/go-1.19/bin/go"));
    candidates.push(PathBuf::from("go"));
    for c in candidates {
        if let Ok(out) = Command::new(&c).arg("version").output() {
            if String::from_utf8_lossy(&out.stdout).contains("go1.19") {
                return Ok(c);
            }
        }
    }
    Err(
        "Go 1.19 not found: install it with `apt-get install -y golang-1.19-go` (or set GOMAP_GO)"
            .into(),
    )
}
