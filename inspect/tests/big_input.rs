//! A 1000 MiB input is read as it is used, never read whole nor mapped whole.
//!
//! The snapshot of the demo map gets one more region of 1000 MiB (the file is sparse, so it
//! takes no disk), and `map-inspect dump` runs on it with its address space limited to 256 MiB
//! (`ulimit -v`): reading the file whole, or mapping it, would fail there. The dump must succeed
//! and show the map.

#[allow(dead_code)]
mod support;

use std::io::Write;
use std::process::Command;

use support::{bin, tmp_dir};

#[test]
#[cfg_attr(miri, ignore)]
fn a_1000_mib_snapshot_dumps_under_a_256_mib_address_space() {
    let dir = tmp_dir("big-input");
    let snap = dir.join("demo.snap");
    let out = Command::new(bin())
        .args(["dump", "--save-snapshot"])
        .arg(&snap)
        .output()
        .expect("run map-inspect");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bytes = std::fs::read(&snap).unwrap();
    let small = bytes.len();

    // The region count is the u32 right after the header fields and the two type names.
    let mut off = 8 + 4 + 1 + 1 + 2 + 8 + 8;
    for _ in 0..2 {
        let n = u16::from_le_bytes([bytes[off], bytes[off + 1]]) as usize;
        off += 2 + n;
    }
    off += 8; // the hmap address
    let count = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap());
    bytes[off..off + 4].copy_from_slice(&(count + 1).to_le_bytes());
    // One more region: an indirect elem of 1000 MiB far from the map's own memory.
    const BIG: u64 = 1000 << 20;
    bytes.push(gomap::snapshot::RegionKind::IndirectElem as u8);
    bytes.extend_from_slice(&0x1000_0000_0000u64.to_le_bytes());
    bytes.extend_from_slice(&BIG.to_le_bytes());
    let big = dir.join("big1000.snap");
    let mut f = std::fs::File::create(&big).unwrap();
    f.write_all(&bytes).unwrap();
    // The region's bytes: a hole, so the file costs no disk.
    f.set_len(bytes.len() as u64 + BIG).unwrap();
    drop(f);
    assert!(std::fs::metadata(&big).unwrap().len() > BIG);

    let cmd = format!(
        "ulimit -v 262144 && exec '{}' dump '{}' --no-hex",
        bin(),
        big.display()
    );
    let out = Command::new("sh").arg("-c").arg(&cmd).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{}",
        out.status.code(),
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("count"), "{stdout}");
    // The same dump of the small file says the same.
    let small_out = Command::new(bin())
        .args(["dump", snap.to_str().unwrap(), "--no-hex"])
        .output()
        .unwrap();
    // The same lines but the one that names the file (its name, regions and size).
    let rest = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("snapshot "))
            .map(String::from)
            .collect()
    };
    let file_line = stdout
        .lines()
        .find(|l| l.starts_with("snapshot "))
        .unwrap_or_default();
    assert!(file_line.contains("11 regions"), "{file_line}");
    assert_eq!(
        rest(&stdout),
        rest(&String::from_utf8_lossy(&small_out.stdout)),
        "the big file's dump differs from the small one's"
    );
    assert!(small < 1 << 20);
    std::fs::remove_file(&big).unwrap();
}
