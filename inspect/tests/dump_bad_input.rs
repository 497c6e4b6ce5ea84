//! Bad input to `map-inspect dump`: every case runs the binary with a time limit and must end
//! with a non-zero exit and one clear line on standard error that names the problem and what
//! to do. Never a panic, a hang or a crash.

#[allow(dead_code)]
mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use gomap::layout::{BucketLayout, Hmap};
use gomap::snapshot::{Region, RegionKind, Snapshot};
use gomap::GoMap;

use support::{Out, Sleeper};

const LIMIT: Duration = Duration::from_secs(20);

/// Asserts a clean failure whose message contains every one of `wants`.
fn assert_clean_error(out: &Out, wants: &[&str], what: &str) {
    assert!(!out.status.success(), "{what}: exit status {}", out.status);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: an error exits with status 1, not a signal or a panic ({})",
        out.status
    );
    assert!(out.stdout.is_empty(), "{what}: printed {:?}", out.stdout);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: want one line, got {:?}",
        out.stderr
    );
    let line = lines[0];
    assert!(line.starts_with("map-inspect: error: "), "{what}: {line}");
    assert!(!line.contains("panicked"), "{what}: {line}");
    for w in wants {
        assert!(line.contains(w), "{what}: {line:?} does not say {w:?}");
    }
}

fn write(name: &str, bytes: &[u8]) -> String {
    let p = support::tmp_dir("bad-input").join(name);
    std::fs::write(&p, bytes).expect("write");
    p.to_str().unwrap().to_string()
}

fn dump_file(path: &str) -> Out {
    support::run(&["dump", path], LIMIT)
}

/// A real snapshot of a small map with one overflow chain.
fn real_snapshot() -> Snapshot {
    let mut m: GoMap<u64, u64> = GoMap::with_capacity(8);
    for k in 0..8u64 {
        m.insert(k, k);
    }
    m.snapshot()
}

#[test]
fn garbage_file() {
    let p = write("garbage.bin", b"this is not a snapshot, just some text\n");
    assert_clean_error(
        &dump_file(&p),
        &[
            "garbage.bin",
            "not a gomap snapshot",
            "give a file written by",
        ],
        "garbage",
    );
    let empty = write("empty.bin", b"");
    assert_clean_error(&dump_file(&empty), &["not a gomap snapshot"], "empty file");
}

#[test]
fn truncated_file() {
    let bytes = real_snapshot().to_bytes();
    for cut in [9, 30, bytes.len() / 2, bytes.len() - 1] {
        let p = write(&format!("truncated-{cut}.snap"), &bytes[..cut]);
        assert_clean_error(
            &dump_file(&p),
            &["truncated", "the file is incomplete"],
            &format!("truncated at {cut}"),
        );
    }
}

#[test]
fn missing_file_and_directory() {
    let p = support::tmp_dir("bad-input").join("does-not-exist.snap");
    assert_clean_error(
        &dump_file(p.to_str().unwrap()),
        &["cannot open", "does-not-exist.snap"],
        "missing file",
    );
    let d = support::tmp_dir("bad-input");
    assert_clean_error(
        &dump_file(d.to_str().unwrap()),
        &["is a directory"],
        "directory",
    );
}

fn u64_layout() -> BucketLayout {
    BucketLayout::from_sizes(8, 8)
}

fn header(count: u64, b: u8, buckets: u64) -> Vec<u8> {
    let mut h = vec![0u8; Hmap::SIZE];
    h[Hmap::COUNT_OFFSET..Hmap::COUNT_OFFSET + 8].copy_from_slice(&count.to_le_bytes());
    h[Hmap::B_OFFSET] = b;
    h[Hmap::BUCKETS_OFFSET..Hmap::BUCKETS_OFFSET + 8].copy_from_slice(&buckets.to_le_bytes());
    h
}

fn bucket(tophash0: u8, overflow: u64) -> Vec<u8> {
    let l = u64_layout();
    let mut b = vec![0u8; l.bucketsize];
    b[0] = tophash0;
    let o = l.overflow_offset();
    b[o..o + 8].copy_from_slice(&overflow.to_le_bytes());
    b
}

fn snapshot(regions: Vec<Region>) -> Snapshot {
    Snapshot {
        layout: u64_layout(),
        pointer_free: true,
        key_type: "uint64".into(),
        elem_type: "uint64".into(),
        hmap: 0x1000,
        regions,
    }
}

#[test]
fn cyclic_overflow_chain() {
    // main[0] → heap 0x3000 → heap 0x4000 → heap 0x3000 → ...
    let s = snapshot(vec![
        Region {
            kind: RegionKind::Hmap,
            addr: 0x1000,
            bytes: header(3, 0, 0x2000),
        },
        Region {
            kind: RegionKind::Buckets,
            addr: 0x2000,
            bytes: bucket(0x50, 0x3000),
        },
        Region {
            kind: RegionKind::HeapBucket,
            addr: 0x3000,
            bytes: bucket(0x51, 0x4000),
        },
        Region {
            kind: RegionKind::HeapBucket,
            addr: 0x4000,
            bytes: bucket(0x52, 0x3000),
        },
    ]);
    let p = write("cycle.snap", &s.to_bytes());
    assert_clean_error(
        &dump_file(&p),
        &[
            "cycle.snap",
            "overflow chain of main[0] loops back to 0x3000",
            "take a new one",
        ],
        "cycle",
    );
    // A chain that points back to a head bucket.
    let s = snapshot(vec![
        Region {
            kind: RegionKind::Hmap,
            addr: 0x1000,
            bytes: header(1, 0, 0x2000),
        },
        Region {
            kind: RegionKind::Buckets,
            addr: 0x2000,
            bytes: bucket(0x50, 0x2000),
        },
    ]);
    let p = write("self-loop.snap", &s.to_bytes());
    assert_clean_error(&dump_file(&p), &["loops back to 0x2000"], "self loop");
}

#[test]
fn b_of_200_is_an_error_not_an_allocation() {
    let mut s = real_snapshot();
    let h = s
        .regions
        .iter_mut()
        .find(|r| r.kind == RegionKind::Hmap)
        .expect("hmap region");
    h.bytes[Hmap::B_OFFSET] = 200;
    let p = write("b200.snap", &s.to_bytes());
    assert_clean_error(
        &dump_file(&p),
        &["B = 200", "largest accepted is 30"],
        "B = 200",
    );
    // A B that is accepted but whose array the snapshot does not hold: the read is refused
    // before anything is allocated (a 2^26-bucket array would be 9 GiB).
    h_set_b(&mut s, 26);
    let p = write("b26.snap", &s.to_bytes());
    let out = dump_file(&p);
    assert_clean_error(&out, &["b26.snap"], "B = 26");
    assert!(
        out.stderr.contains("refusing to decode") || out.stderr.contains("no region holds it"),
        "{}",
        out.stderr
    );
}

fn h_set_b(s: &mut Snapshot, b: u8) {
    for r in &mut s.regions {
        if r.kind == RegionKind::Hmap {
            r.bytes[Hmap::B_OFFSET] = b;
        }
    }
}

#[test]
fn bucket_pointer_outside_the_snapshot() {
    let s = snapshot(vec![Region {
        kind: RegionKind::Hmap,
        addr: 0x1000,
        bytes: header(1, 0, 0xdead_0000),
    }]);
    let p = write("dangling.snap", &s.to_bytes());
    assert_clean_error(
        &dump_file(&p),
        &["cannot read 144 bytes at 0xdead0000", "no region holds it"],
        "dangling buckets pointer",
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn unmapped_address() {
    let child = Sleeper::start();
    let pid = child.0.id().to_string();
    for addr in ["0x10", "0xfffffffffff0"] {
        let out = support::run(
            &["dump", "--pid", &pid, "--addr", addr, "--types", "u64:u64"],
            LIMIT,
        );
        assert_clean_error(
            &out,
            &[
                &format!("cannot read 48 bytes at {addr}"),
                "not mapped in that process",
                "is --addr",
            ],
            &format!("--addr {addr}"),
        );
    }
    // A nil map pointer.
    let out = support::run(
        &["dump", "--pid", &pid, "--addr", "0", "--types", "u64:u64"],
        LIMIT,
    );
    assert_clean_error(&out, &["the map pointer is nil"], "--addr 0");
}

#[test]
#[cfg_attr(miri, ignore)]
fn pid_that_does_not_exist() {
    // Above any pid_max Linux allows (2^22), so no process has it.
    let out = support::run(
        &[
            "dump",
            "--pid",
            "2147483000",
            "--addr",
            "0x1000",
            "--types",
            "u64:u64",
        ],
        LIMIT,
    );
    assert_clean_error(
        &out,
        &["no process with pid 2147483000", "has it exited?"],
        "no pid",
    );
    // A process that has just exited.
    let mut c = Command::new("true").spawn().expect("spawn true");
    let pid = c.id().to_string();
    c.wait().expect("wait");
    let out = support::run(
        &[
            "dump", "--pid", &pid, "--addr", "0x1000", "--types", "u64:u64",
        ],
        LIMIT,
    );
    assert_clean_error(&out, &[&format!("pid {pid}")], "exited pid");
    let out = support::run(
        &[
            "dump", "--pid", "-5", "--addr", "0x1000", "--types", "u64:u64",
        ],
        LIMIT,
    );
    assert!(!out.status.success() && !out.stderr.contains("panicked"));
}

#[test]
#[cfg_attr(miri, ignore)]
fn live_options_that_do_not_fit() {
    let child = Sleeper::start();
    let pid = child.0.id().to_string();
    let cases: [(&[&str], &[&str]); 5] = [
        (&["--addr", "0x1000"], &["--pid needs the map's types"]),
        (
            &["--addr", "0x1000", "--types", "u64"],
            &["expected KEY:ELEM"],
        ),
        (
            &["--addr", "0x1000", "--types", "u64:complex128"],
            &["unknown type \"complex128\""],
        ),
        (
            &["--go", "--addr", "0x1000", "--types", "char:u64"],
            &["char is not a Go type"],
        ),
        (
            &["--addr", "0x1000", "--key-size", "8"],
            &["give both --key-size and --elem-size"],
        ),
    ];
    for (args, wants) in cases {
        let mut a = vec!["dump", "--pid", &pid];
        a.extend_from_slice(args);
        assert_clean_error(&support::run(&a, LIMIT), wants, &a.join(" "));
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn permission_denied() {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: getuid has no preconditions.
    let root = unsafe { libc::getuid() } == 0;
    let child = Sleeper::start();
    let (pid, as_nobody) = if root {
        // Run map-inspect as `nobody` against this (root) test's child: a real EPERM.
        (child.0.id().to_string(), true)
    } else {
        // Not root: pid 1 belongs to root, unless this runs in a user namespace.
        let meta = std::fs::metadata("/proc/1").expect("/proc/1");
        // SAFETY: as above.
        if std::os::unix::fs::MetadataExt::uid(&meta) == unsafe { libc::getuid() } {
            eprintln!("SKIPPED: no process of another user to be denied (pid 1 is ours)");
            return;
        }
        ("1".to_string(), false)
    };
    let mut cmd = Command::new(support::bin());
    cmd.args([
        "dump", "--pid", &pid, "--addr", "0x1000", "--types", "u64:u64",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if as_nobody {
        cmd.uid(65534).gid(65534);
    }
    let out = support::wait_with_limit(cmd.spawn().expect("spawn"), LIMIT, "permission");
    assert_clean_error(
        &out,
        &[
            &format!("permission denied reading pid {pid}"),
            "uid",
            "CAP_SYS_PTRACE",
        ],
        "permission denied",
    );
    assert!(!out.stderr.contains("is --addr"), "{}", out.stderr);
}
