//! Sources of memory: everything the decoder reads goes through [`MemoryReader`], which
//! bounds-checks each read against what the source holds and names the address on failure.

use std::fmt;

use gomap::snapshot::Snapshot;

/// Why a read failed. Always names the address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// The address of the failed read.
    pub addr: u64,
    /// How many bytes were asked for.
    pub len: usize,
    /// Why it failed.
    pub reason: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read {} bytes at {:#x}: {}",
            self.len, self.addr, self.reason
        )
    }
}

impl std::error::Error for ReadError {}

/// A source of memory: a snapshot, a live process, an in-process map.
pub trait MemoryReader {
    /// Reads `buf.len()` bytes at `addr`, all or nothing.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError>;

    /// What the source is, for messages (`snapshot FILE`, `pid 1234`).
    fn describe(&self) -> String;

    /// Reads `len` bytes into a new vector.
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        let mut v = vec![0u8; len];
        self.read(addr, &mut v)?;
        Ok(v)
    }

    /// Reads a little-endian u64.
    fn read_u64(&self, addr: u64) -> Result<u64, ReadError> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }
}

/// Reads from the regions of a [`Snapshot`].
pub struct SnapshotReader<'a> {
    snap: &'a Snapshot,
    name: String,
}

impl<'a> SnapshotReader<'a> {
    /// A reader over `snap`, described as `name`.
    pub fn new(snap: &'a Snapshot, name: impl Into<String>) -> Self {
        SnapshotReader {
            snap,
            name: name.into(),
        }
    }
}

impl SnapshotReader<'_> {
    fn missing(&self, addr: u64, len: usize) -> ReadError {
        ReadError {
            addr,
            len,
            reason: format!("not in {} (no region holds it)", self.name),
        }
    }
}

impl MemoryReader for SnapshotReader<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        match self.snap.read(addr, buf.len()) {
            Some(b) => {
                buf.copy_from_slice(b);
                Ok(())
            }
            None => Err(self.missing(addr, buf.len())),
        }
    }
    /// Checks that a region holds the bytes before allocating: a corrupt snapshot cannot
    /// make the reader allocate more than the file holds.
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        match self.snap.read(addr, len) {
            Some(b) => Ok(b.to_vec()),
            None => Err(self.missing(addr, len)),
        }
    }
    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Reads another process's memory with `process_vm_readv` (Linux).
pub struct ProcessReader {
    pid: i32,
}

impl ProcessReader {
    /// A reader for process `pid`. Fails at once, with a hint, if the process does not exist
    /// or cannot be read.
    pub fn new(pid: i32) -> Result<Self, String> {
        if pid <= 0 {
            return Err(format!("invalid pid {pid}: a pid is a positive number"));
        }
        // SAFETY: kill with signal 0 only checks that the process exists and may be signalled.
        let r = unsafe { libc::kill(pid, 0) };
        if r != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::ESRCH) {
                return Err(format!(
                    "no process with pid {pid} (has it exited? check the pid with `ps -p {pid}`)"
                ));
            }
            // EPERM: it exists; reading may still fail, which `read` reports.
        }
        Ok(ProcessReader { pid })
    }
}

impl MemoryReader for ProcessReader {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        if buf.is_empty() {
            return Ok(());
        }
        let len = buf.len();
        let fail = |reason: String| ReadError { addr, len, reason };
        let local = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let remote = libc::iovec {
            iov_base: addr as usize as *mut libc::c_void,
            iov_len: buf.len(),
        };
        // SAFETY: `local` describes `buf`, which we own for the call; the kernel checks
        // `remote` against the other process's address space.
        let n = unsafe { libc::process_vm_readv(self.pid, &local, 1, &remote, 1, 0) };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            let hint = match err.raw_os_error() {
                Some(libc::EFAULT) => NOT_MAPPED.to_string(),
                Some(libc::ESRCH) => format!("process {} has exited", self.pid),
                Some(libc::EPERM) => permission_hint(self.pid),
                _ => err.to_string(),
            };
            return Err(fail(hint));
        }
        if n as usize != len {
            return Err(fail(format!(
                "only {n} bytes readable: the range crosses the end of a mapping"
            )));
        }
        Ok(())
    }
    /// Reads in chunks of at most [`PROCESS_CHUNK`] bytes, so that a wild size (a corrupt
    /// header) fails at the first unmapped page instead of allocating it all first.
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        if len <= PROCESS_CHUNK {
            let mut v = vec![0u8; len];
            self.read(addr, &mut v)?;
            return Ok(v);
        }
        let mut v = Vec::new();
        let mut done = 0usize;
        while done < len {
            let n = (len - done).min(PROCESS_CHUNK);
            let at = addr.checked_add(done as u64).ok_or_else(|| ReadError {
                addr,
                len,
                reason: "the range wraps around the address space".into(),
            })?;
            let start = v.len();
            v.resize(start + n, 0);
            self.read(at, &mut v[start..]).map_err(|e| ReadError {
                addr,
                len,
                reason: format!("{} (at {:#x}, {} bytes in)", e.reason, e.addr, done),
            })?;
            done += n;
        }
        Ok(v)
    }
    fn describe(&self) -> String {
        format!("pid {}", self.pid)
    }
}

/// The reason of a [`ProcessReader`] read at an address the process has not mapped.
pub const NOT_MAPPED: &str = "the address is not mapped in that process";

/// The largest single `process_vm_readv` the [`ProcessReader`] makes.
pub const PROCESS_CHUNK: usize = 1 << 20;

/// Why reading another process's memory may be denied, and what to do about it.
fn permission_hint(pid: i32) -> String {
    let yama = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    let fix = match yama {
        Some(1) => "Yama's ptrace_scope is 1: only a parent may read its child's memory. Run \
                    map-inspect as root (sudo), let the target allow it \
                    (prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY)), or set \
                    `sudo sysctl kernel.yama.ptrace_scope=0`"
            .to_string(),
        Some(2) => "Yama's ptrace_scope is 2: only root (CAP_SYS_PTRACE) may read another \
                    process's memory. Run map-inspect with sudo"
            .to_string(),
        Some(3) => "Yama's ptrace_scope is 3: reading another process's memory is disabled \
                    until reboot. Dump a snapshot from inside the process instead"
            .to_string(),
        _ => "run map-inspect as the same user as the target, or as root (CAP_SYS_PTRACE)"
            .to_string(),
    };
    format!("permission denied reading pid {pid}: {fix}")
}
