//! ELF core files (Linux, 64-bit little-endian): the memory a process had when it dumped core.
//!
//! A core holds the process's writable memory in `PT_LOAD` segments. The kernel leaves out
//! file-backed mappings it did not need to keep (the executable's code and read-only data,
//! which hold Go's string literals and type descriptors): such a segment has `p_filesz`
//! smaller than `p_memsz`. Its `NT_FILE` note says which file and offset each mapping came
//! from; as gdb does, those bytes are read from the files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Backing, FileData, MemoryReader, ReadError, Segment, SegmentMap};

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const ET_CORE: u16 = 4;
const NT_PRSTATUS: u32 = 1;
const NT_PRPSINFO: u32 = 3;
const NT_AUXV: u32 = 6;
const NT_FILE: u32 = 0x4649_4c45;
const AT_ENTRY: u64 = 9;

/// The most program headers and note bytes read (a corrupt header cannot make us allocate
/// more).
const MAX_PHDRS: u64 = 1 << 20;
const MAX_NOTES: u64 = 256 << 20;

/// A file-backed mapping of the process, from `NT_FILE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMapping {
    /// First address.
    pub start: u64,
    /// End address (exclusive).
    pub end: u64,
    /// Offset in the file, in bytes.
    pub offset: u64,
    /// The file's path when the core was written.
    pub path: String,
}

/// What the core's notes say about the process.
#[derive(Clone, Debug, Default)]
pub struct CoreInfo {
    /// The pid.
    pub pid: Option<i32>,
    /// The program name (`pr_fname`, at most 15 bytes).
    pub name: String,
    /// Its command line (`pr_psargs`, at most 80 bytes).
    pub args: String,
    /// The signal that killed it (of the first thread).
    pub signal: Option<i32>,
    /// Number of threads (`NT_PRSTATUS` notes).
    pub threads: usize,
    /// The executable's path, from the `NT_FILE` mapping that holds the entry point.
    pub exe: Option<PathBuf>,
    /// Every file-backed mapping.
    pub files: Vec<FileMapping>,
}

/// Reads the memory of an ELF core file.
pub struct CoreReader {
    map: SegmentMap,
    /// What the notes say.
    pub info: CoreInfo,
    /// Ranges left out of the core with no file to read them from: (start, end, why).
    missing: Vec<(u64, u64, String)>,
    name: String,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().expect("4"))
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().expect("8"))
}
fn cstr(b: &[u8]) -> String {
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..n]).into_owned()
}

/// One program header.
struct Phdr {
    p_type: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

/// Whether `head` (a file's first bytes) is an ELF file.
pub fn is_elf(head: &[u8]) -> bool {
    head.len() >= 4 && &head[..4] == b"\x7fELF"
}

/// The ELF header's `e_type` and the program headers of a 64-bit little-endian ELF file.
fn read_phdrs(f: &FileData) -> Result<(u16, Vec<Phdr>), String> {
    let what = f.path().display().to_string();
    let eh = f
        .read_vec(0, 64)
        .map_err(|_| format!("{what} is too short to be an ELF file"))?;
    if !is_elf(&eh) {
        return Err(format!("{what} is not an ELF file"));
    }
    if eh[4] != 2 || eh[5] != 1 {
        return Err(format!(
            "{what}: only 64-bit little-endian ELF files are supported"
        ));
    }
    let e_type = u16_at(&eh, 16);
    let phoff = u64_at(&eh, 32);
    let phentsize = u16_at(&eh, 54) as u64;
    let phnum = u16_at(&eh, 56) as u64;
    if phentsize < 56 || phnum > MAX_PHDRS {
        return Err(format!(
            "{what}: corrupt ELF header (phentsize {phentsize}, phnum {phnum})"
        ));
    }
    let raw = f
        .read_vec(phoff, (phentsize * phnum) as usize)
        .map_err(|e| format!("{what}: cannot read the program headers: {e}"))?;
    let phdrs = raw
        .chunks_exact(phentsize as usize)
        .map(|p| Phdr {
            p_type: u32_at(p, 0),
            offset: u64_at(p, 8),
            vaddr: u64_at(p, 16),
            filesz: u64_at(p, 32),
            memsz: u64_at(p, 40),
        })
        .collect();
    Ok((e_type, phdrs))
}

/// The notes of a `PT_NOTE` segment: (type, name, desc).
fn notes(data: &[u8]) -> Vec<(u32, String, &[u8])> {
    let mut out = Vec::new();
    let mut o = 0usize;
    let align4 = |n: usize| (n + 3) & !3;
    while o + 12 <= data.len() {
        let namesz = u32_at(data, o) as usize;
        let descsz = u32_at(data, o + 4) as usize;
        let ty = u32_at(data, o + 8);
        let name_at = o + 12;
        let desc_at = name_at.saturating_add(align4(namesz));
        let end = desc_at.saturating_add(align4(descsz));
        if desc_at.saturating_add(descsz) > data.len() {
            break;
        }
        out.push((
            ty,
            cstr(&data[name_at..name_at + namesz]),
            &data[desc_at..desc_at + descsz],
        ));
        o = end;
    }
    out
}

fn parse_nt_file(d: &[u8]) -> Vec<FileMapping> {
    if d.len() < 16 {
        return Vec::new();
    }
    let count = u64_at(d, 0) as usize;
    let page = u64_at(d, 8);
    let Some(names_at) = count.checked_mul(24).and_then(|n| n.checked_add(16)) else {
        return Vec::new();
    };
    if names_at > d.len() {
        return Vec::new();
    }
    let mut names = d[names_at..].split(|&c| c == 0);
    (0..count)
        .map_while(|i| {
            let e = 16 + i * 24;
            let name = names.next()?;
            Some(FileMapping {
                start: u64_at(d, e),
                end: u64_at(d, e + 8),
                offset: u64_at(d, e + 16).saturating_mul(page),
                path: String::from_utf8_lossy(name).into_owned(),
            })
        })
        .collect()
}

impl CoreReader {
    /// Opens a core file. `exe`, when given, is read for the executable's mappings in place
    /// of the path the core names (the binary may have moved since).
    pub fn open(path: &Path, exe: Option<&Path>) -> Result<CoreReader, String> {
        let f = Arc::new(FileData::open(path)?);
        let what = path.display().to_string();
        let (e_type, phdrs) = read_phdrs(&f)?;
        if e_type != ET_CORE {
            return Err(format!(
                "{what} is an ELF file but not a core file (e_type {e_type}); a core file comes \
                 from `gcore PID` or from the kernel when a process crashes"
            ));
        }
        let mut info = CoreInfo::default();
        let mut entry = None;
        for p in phdrs.iter().filter(|p| p.p_type == PT_NOTE) {
            if p.filesz > MAX_NOTES {
                return Err(format!("{what}: a note segment of {} bytes", p.filesz));
            }
            let data = f
                .read_vec(p.offset, p.filesz as usize)
                .map_err(|e| format!("{what}: cannot read the notes: {e}"))?;
            for (ty, name, desc) in notes(&data) {
                if name != "CORE" {
                    continue;
                }
                match ty {
                    NT_PRSTATUS if desc.len() >= 36 => {
                        if info.threads == 0 {
                            info.signal = Some(u16_at(desc, 12) as i32);
                            info.pid = Some(u32_at(desc, 32) as i32);
                        }
                        info.threads += 1;
                    }
                    NT_PRPSINFO if desc.len() >= 136 => {
                        info.name = cstr(&desc[40..56]);
                        info.args = cstr(&desc[56..136]).trim_end().to_string();
                        if info.pid.is_none() {
                            info.pid = Some(u32_at(desc, 24) as i32);
                        }
                    }
                    NT_AUXV => {
                        for pair in desc.chunks_exact(16) {
                            if u64_at(pair, 0) == AT_ENTRY {
                                entry = Some(u64_at(pair, 8));
                            }
                        }
                    }
                    NT_FILE => info.files = parse_nt_file(desc),
                    _ => {}
                }
            }
        }
        if let Some(e) = entry {
            info.exe = info
                .files
                .iter()
                .find(|m| m.start <= e && e < m.end)
                .map(|m| PathBuf::from(&m.path));
        }
        // Open each mapped file once; a missing file is remembered, not an error (reads of
        // its mappings will say so).
        let mut opened: HashMap<String, Result<Arc<FileData>, String>> = HashMap::new();
        let mut open = |p: &str| -> Result<Arc<FileData>, String> {
            opened
                .entry(p.to_string())
                .or_insert_with(|| {
                    let real: PathBuf = match (exe, &info.exe) {
                        (Some(x), Some(core_exe)) if core_exe == Path::new(p) => x.to_path_buf(),
                        _ => PathBuf::from(p),
                    };
                    FileData::open(&real).map(Arc::new)
                })
                .clone()
        };
        let mut segs = Vec::new();
        let mut missing = Vec::new();
        // 1. What the core holds.
        for p in phdrs.iter().filter(|p| p.p_type == PT_LOAD && p.filesz > 0) {
            if p.offset.checked_add(p.filesz).map_or(true, |e| e > f.len()) {
                return Err(format!(
                    "{what} is truncated: a segment at {:#x} needs file bytes up to {}, the \
                     file has {} (copy the core again, or let the dump finish)",
                    p.vaddr,
                    p.offset.saturating_add(p.filesz),
                    f.len()
                ));
            }
            segs.push(Segment {
                addr: p.vaddr,
                len: p.filesz.min(p.memsz),
                backing: Backing::File {
                    file: f.clone(),
                    offset: p.offset,
                    filesz: p.filesz,
                },
            });
        }
        let held: Vec<(u64, u64)> = {
            let mut v: Vec<(u64, u64)> = segs.iter().map(|s| (s.addr, s.addr + s.len)).collect();
            v.sort();
            v
        };
        // The parts of [s, e) the core does not hold.
        let gaps = |s: u64, e: u64| -> Vec<(u64, u64)> {
            let mut out = Vec::new();
            let mut at = s;
            for &(hs, he) in &held {
                if he <= at || hs >= e {
                    continue;
                }
                if hs > at {
                    out.push((at, hs));
                }
                at = at.max(he);
            }
            if at < e {
                out.push((at, e));
            }
            out
        };
        // 2. File-backed mappings the core left out (gdb's gcore leaves out read-only ones
        //    entirely; the kernel writes them with p_filesz 0): read from the files.
        for m in &info.files {
            for (s, e) in gaps(m.start, m.end) {
                match open(&m.path) {
                    Ok(file) => {
                        let off = m.offset + (s - m.start);
                        let filesz = file.len().saturating_sub(off).min(e - s);
                        segs.push(Segment {
                            addr: s,
                            len: e - s,
                            backing: Backing::File {
                                file,
                                offset: off,
                                filesz,
                            },
                        })
                    }
                    Err(why) => missing.push((
                        s,
                        e,
                        format!(
                            "the core left out this mapping of {} and the file cannot be read \
                             ({why}){}",
                            m.path,
                            if info.exe.as_deref() == Some(Path::new(&m.path)) {
                                "; give the executable with --exe"
                            } else {
                                ""
                            }
                        ),
                    )),
                }
            }
        }
        // 3. Anything else a PT_LOAD names but nothing holds.
        for p in phdrs
            .iter()
            .filter(|p| p.p_type == PT_LOAD && p.memsz > p.filesz)
        {
            let (s, e) = (p.vaddr, p.vaddr.saturating_add(p.memsz));
            let covered: Vec<(u64, u64)> = info
                .files
                .iter()
                .filter(|m| m.start < e && s < m.end)
                .map(|m| (m.start, m.end))
                .collect();
            for (gs, ge) in gaps(s, e) {
                if !covered.iter().any(|&(ms, me)| ms <= gs && ge <= me) {
                    missing.push((
                        gs,
                        ge,
                        "the core left this mapping out (see /proc/PID/coredump_filter)".into(),
                    ));
                }
            }
        }
        Ok(CoreReader {
            map: SegmentMap::new(segs),
            info,
            missing,
            name: format!("core file {what}"),
        })
    }

    fn error(&self, addr: u64, len: usize, reason: String) -> ReadError {
        let why = self
            .missing
            .iter()
            .find(|(s, e, _)| *s <= addr && addr < *e)
            .map(|(_, _, w)| w.clone());
        ReadError {
            addr,
            len,
            reason: match why {
                Some(w) => format!("{w} ({})", self.name),
                None if reason == "no region holds it" => format!(
                    "the address was not mapped in the process when {} was written",
                    self.name
                ),
                None => format!("{reason} ({})", self.name),
            },
        }
    }
}

impl MemoryReader for CoreReader {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        self.map
            .read(addr, buf)
            .map_err(|r| self.error(addr, buf.len(), r))
    }
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        if !self.map.holds(addr, len as u64) {
            let mut probe = [0u8; 1];
            let r = self.map.read(addr, &mut probe).err().unwrap_or_else(|| {
                "the range runs past the end of the mapping that holds its start".into()
            });
            return Err(self.error(addr, len, r));
        }
        let mut v = vec![0u8; len];
        self.read(addr, &mut v)?;
        Ok(v)
    }
    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Reads the `PT_LOAD` segments of an ELF file (an executable, or a core file's program
/// headers): `(vaddr, file offset, filesz, memsz)`.
pub(crate) fn load_segments(f: &FileData) -> Result<Vec<(u64, u64, u64, u64)>, String> {
    let (_, phdrs) = read_phdrs(f)?;
    Ok(phdrs
        .iter()
        .filter(|p| p.p_type == PT_LOAD)
        .map(|p| (p.vaddr, p.offset, p.filesz, p.memsz))
        .collect())
}
