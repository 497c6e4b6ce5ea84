//! A live process, read with `process_vm_readv` (Linux).

use super::{MemoryReader, ReadError};

/// Reads another process's memory with `process_vm_readv`.
pub struct ProcessReader {
    pid: i32,
}

/// What a build for another operating system says when asked for a live process.
#[cfg(not(target_os = "linux"))]
const LINUX_ONLY: &str = "reading a live process needs Linux (process_vm_readv); on this \
    system, read a core file (--core) or a snapshot instead";

impl ProcessReader {
    /// A reader for process `pid`. Fails at once, with a hint, if the process does not exist
    /// or cannot be read.
    #[cfg(not(target_os = "linux"))]
    pub fn new(pid: i32) -> Result<Self, String> {
        let _ = pid;
        Err(LINUX_ONLY.into())
    }

    /// A reader for process `pid`. Fails at once, with a hint, if the process does not exist
    /// or cannot be read.
    #[cfg(target_os = "linux")]
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

    /// The pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }
}

impl MemoryReader for ProcessReader {
    #[cfg(not(target_os = "linux"))]
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        Err(ReadError {
            addr,
            len: buf.len(),
            reason: LINUX_ONLY.into(),
        })
    }

    #[cfg(target_os = "linux")]
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
                Some(libc::EPERM) => permission_diagnosis(self.pid),
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

/// `CAP_SYS_PTRACE`'s bit in the capability sets.
#[cfg(target_os = "linux")]
const CAP_SYS_PTRACE: u32 = 19;

/// A field of `/proc/PID/status` (`Uid:`, `CapEff:`).
#[cfg(target_os = "linux")]
fn status_field(pid: &str, name: &str) -> Option<String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(name))
        .map(|v| v.trim().to_string())
}

/// Why the kernel refused to let this process read `pid`'s memory: which rule (user ids,
/// the target's dumpable flag, capabilities, Yama's `ptrace_scope`), and what to do about it.
#[cfg(not(target_os = "linux"))]
pub fn permission_diagnosis(pid: i32) -> String {
    format!("cannot read process {pid}: {LINUX_ONLY}")
}

/// Why the kernel refused to let this process read `pid`'s memory: which rule (user ids,
/// the target's dumpable flag, capabilities, Yama's `ptrace_scope`), and what to do about it.
#[cfg(target_os = "linux")]
pub fn permission_diagnosis(pid: i32) -> String {
    let target = pid.to_string();
    let yama = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    let cap_eff = status_field("self", "CapEff:").and_then(|h| u64::from_str_radix(&h, 16).ok());
    let have_ptrace_cap = cap_eff.map(|c| c & (1 << CAP_SYS_PTRACE) != 0);
    // SAFETY: getuid has no preconditions.
    let my_uid = unsafe { libc::getuid() };
    let target_uids: Option<Vec<u32>> = status_field(&target, "Uid:").map(|l| {
        l.split_whitespace()
            .filter_map(|u| u.parse().ok())
            .collect()
    });
    let caps = match have_ptrace_cap {
        Some(true) => "this process has CAP_SYS_PTRACE",
        Some(false) => "this process does not have CAP_SYS_PTRACE",
        None => "this process's capabilities are unknown",
    };
    let mut why = Vec::new();
    if let Some(uids) = &target_uids {
        if have_ptrace_cap != Some(true) && uids.iter().any(|&u| u != my_uid) {
            why.push(format!(
                "user ids: pid {pid} runs as uid {} and this process as uid {my_uid}; reading \
                 another user's process needs CAP_SYS_PTRACE (run map-inspect as that user, \
                 or with sudo)",
                uids.first().copied().unwrap_or(0)
            ));
        }
    }
    match yama {
        Some(1) if have_ptrace_cap != Some(true) => why.push(
            "Yama's kernel.yama.ptrace_scope is 1: only a parent (or a process the target named \
             with prctl(PR_SET_PTRACER)) may read its memory, or one with CAP_SYS_PTRACE. Run \
             map-inspect with sudo, or set `sudo sysctl kernel.yama.ptrace_scope=0`"
                .to_string(),
        ),
        Some(2) if have_ptrace_cap != Some(true) => why.push(
            "Yama's kernel.yama.ptrace_scope is 2: only a process with CAP_SYS_PTRACE may read \
             another process's memory. Run map-inspect with sudo"
                .to_string(),
        ),
        Some(3) => why.push(
            "Yama's kernel.yama.ptrace_scope is 3: no process may read another's memory, root \
             included, until reboot. Take a core file instead (`gcore` is refused too; use \
             the kernel's core dump: `kill -ABRT` with `ulimit -c unlimited`)"
                .to_string(),
        ),
        _ => {}
    }
    if why.is_empty() {
        why.push(format!(
            "the kernel's ptrace access check refused ({caps}; Yama ptrace_scope {}); the \
             target may be non-dumpable (setuid, or prctl(PR_SET_DUMPABLE, 0)), or a Linux \
             security module (SELinux, AppArmor) or a container's seccomp profile denies \
             process_vm_readv",
            yama.map_or("absent".to_string(), |y| y.to_string())
        ));
    }
    format!("permission denied reading pid {pid}: {}", why.join("; "))
}
