//! What the target program is: its Go version and `GOEXPERIMENT` settings (from
//! `.go.buildinfo`), the map layout they imply, its symbols, and its variables and types
//! (DWARF). Values are decoded from those types ([`value`]) and variables are found by Go
//! expressions ([`expr`]). The runtime's hash functions and keys ([`hash`]) and how a key
//! type is hashed and compared ([`keys`]) serve `check` and `get`.

pub mod dwarf;
pub mod expr;
pub mod hash;
pub mod keys;
pub mod layout;
pub mod value;

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use object::{Object, ObjectSection, ObjectSymbol};

use crate::source::{is_elf, FileData, MemoryReader};
use dwarf::{GoDwarf, Kind, Type};
use layout::{GoVersion, MapImpl, MapLayout, SwissLayout};

use crate::swiss::RuntimeMapType;

/// What `.go.buildinfo` records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildInfo {
    /// The version string as recorded (`go1.24.11 X:noswissmap`).
    pub version_string: String,
    /// The parsed version.
    pub version: Option<GoVersion>,
    /// `GOEXPERIMENT` (from the module info's `build GOEXPERIMENT=...` line, else from the
    /// version string's ` X:` part).
    pub experiments: Vec<String>,
    /// The main module's path (`path` line).
    pub path: Option<String>,
}

/// The magic bytes that start `.go.buildinfo`.
const BUILDINFO_MAGIC: &[u8] = b"\xff Go buildinf:";

fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &c) in b.iter().enumerate().take(10) {
        v |= ((c & 0x7f) as u64) << (7 * i);
        if c & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

impl BuildInfo {
    /// Parses the contents of `.go.buildinfo` (Go 1.18+: strings inline after the 32-byte
    /// header).
    pub fn parse(data: &[u8]) -> Result<BuildInfo, String> {
        if data.len() < 32 || !data.starts_with(BUILDINFO_MAGIC) {
            return Err(".go.buildinfo does not start with Go's magic bytes".into());
        }
        let flags = data[15];
        if flags & 2 == 0 {
            return Err(
                "this .go.buildinfo stores its strings by pointer: the binary was built by Go \
                 1.17 or older, which map-inspect does not read"
                    .into(),
            );
        }
        let mut at = 32usize;
        let mut next = || -> Option<String> {
            let (n, k) = uvarint(data.get(at..)?)?;
            let s = data.get(at + k..at + k + n as usize)?;
            at += k + n as usize;
            Some(String::from_utf8_lossy(s).into_owned())
        };
        let version_string = next().ok_or(".go.buildinfo is truncated")?;
        let modinfo = next().unwrap_or_default();
        let mut experiments: Vec<String> = Vec::new();
        let mut path = None;
        for line in modinfo.lines() {
            let mut parts = line.splitn(2, '\t');
            match (parts.next(), parts.next()) {
                (Some("build"), Some(kv)) => {
                    if let Some(v) = kv.strip_prefix("GOEXPERIMENT=") {
                        experiments = v
                            .split(',')
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect();
                    }
                }
                (Some("path"), Some(p)) => path = Some(p.to_string()),
                _ => {}
            }
        }
        if experiments.is_empty() {
            if let Some(x) = version_string.split(" X:").nth(1) {
                experiments = x.split(',').map(|s| s.trim().to_string()).collect();
            }
        }
        Ok(BuildInfo {
            version: GoVersion::parse(&version_string),
            version_string,
            experiments,
            path,
        })
    }
}

/// A Go executable: build info, layout, symbols, DWARF.
pub struct Program {
    /// Its path.
    pub path: PathBuf,
    file: Arc<FileData>,
    /// What `.go.buildinfo` says.
    pub build: BuildInfo,
    /// The map layout its Go version uses.
    pub layout: MapLayout,
    symbols: OnceCell<HashMap<String, (u64, u64)>>,
    dwarf: OnceCell<Result<Option<GoDwarf>, String>>,
    has_debug_info: bool,
    has_symtab: bool,
}

impl Program {
    /// Opens a Go executable.
    pub fn open(path: &Path) -> Result<Program, String> {
        let file = Arc::new(FileData::open(path)?);
        let shown = path.display().to_string();
        let head = file
            .read_vec(0, 4.min(file.len() as usize))
            .unwrap_or_default();
        if !is_elf(&head) {
            return Err(format!("{shown} is not an ELF executable"));
        }
        let data = file.mapped().ok_or_else(|| {
            format!("cannot map {shown} into memory (an address-space limit?); the executable is read through a memory map")
        })?;
        let obj = object::File::parse(data)
            .map_err(|e| format!("{shown}: not an executable map-inspect can read: {e}"))?;
        if obj.kind() == object::ObjectKind::Core {
            return Err(format!(
                "{shown} is a core file, not an executable (give it with --core)"
            ));
        }
        let bi = obj
            .section_by_name(".go.buildinfo")
            .ok_or_else(|| {
                format!(
                    "{shown} has no .go.buildinfo section: it is not a Go program (or was built \
                     by Go 1.17 or older); for a gomap (Rust) map use --addr and --types without --go"
                )
            })?
            .data()
            .map_err(|e| format!("{shown}: cannot read .go.buildinfo: {e}"))?;
        let build = BuildInfo::parse(bi).map_err(|e| format!("{shown}: {e}"))?;
        let version = build.version.ok_or_else(|| {
            format!(
                "{shown}: .go.buildinfo names Go version {:?}, which map-inspect cannot place; \
                 give the version with --go-version",
                build.version_string
            )
        })?;
        let layout = MapLayout::for_go(
            version,
            &build.experiments,
            &format!(".go.buildinfo of {shown}"),
        )?;
        let has_debug_info = obj
            .section_by_name(".debug_info")
            .is_some_and(|s| s.size() > 0);
        let has_symtab = obj.symbols().next().is_some();
        Ok(Program {
            path: path.to_path_buf(),
            file,
            build,
            layout,
            symbols: OnceCell::new(),
            dwarf: OnceCell::new(),
            has_debug_info,
            has_symtab,
        })
    }

    fn obj(&self) -> object::File<'_> {
        object::File::parse(self.file.mapped().expect("mapped at open")).expect("parsed at open")
    }

    /// Whether the executable has DWARF (`-ldflags=-w` removes it).
    pub fn has_dwarf(&self) -> bool {
        self.has_debug_info
    }

    /// Whether the executable has a symbol table (`-ldflags=-s` removes it).
    pub fn has_symbols(&self) -> bool {
        self.has_symtab
    }

    /// The executable file.
    pub fn file(&self) -> &Arc<FileData> {
        &self.file
    }

    /// The address and size of a symbol.
    pub fn symbol(&self, name: &str) -> Option<(u64, u64)> {
        self.symbols
            .get_or_init(|| {
                let obj = self.obj();
                obj.symbols()
                    .filter_map(|s| Some((s.name().ok()?.to_string(), (s.address(), s.size()))))
                    .collect()
            })
            .get(name)
            .copied()
    }

    /// The DWARF, loaded on first use (`None`: the executable has none).
    pub fn dwarf(&self) -> Result<Option<&GoDwarf>, String> {
        self.dwarf
            .get_or_init(|| {
                if !self.has_debug_info {
                    return Ok(None);
                }
                let obj = self.obj();
                GoDwarf::load(|name| {
                    let Some(s) = obj.section_by_name(name) else {
                        return Ok(None);
                    };
                    let d = s
                        .uncompressed_data()
                        .map_err(|e| format!("cannot decompress {name}: {e}"))?;
                    Ok(Some(Rc::from(&d[..])))
                })
                .map_err(|e| format!("{}: {e}", self.path.display()))
            })
            .as_ref()
            .map(|o| o.as_ref())
            .map_err(|e| e.clone())
    }

    /// The DWARF, or an error that says what the binary lacks and what to do.
    pub fn require_dwarf(&self, what: &str) -> Result<&GoDwarf, String> {
        match self.dwarf()? {
            Some(d) => Ok(d),
            None if self.has_symtab => Err(format!(
                "{} has no DWARF (built with -ldflags=-w): {what} needs its types. A variable's \
                 address still comes from the symbol table: give the map's types with --types \
                 KEY:ELEM (e.g. --types string:int)",
                self.path.display()
            )),
            None => Err(self.no_symbols()),
        }
    }

    /// The message for a binary with neither symbols nor DWARF.
    pub fn no_symbols(&self) -> String {
        format!(
            "{} is stripped: it has no symbol table and no DWARF (built with -ldflags='-s -w'), \
             so variables cannot be found by name. Give the map's address and types instead: \
             --addr ADDR --types KEY:ELEM (the address of the *hmap, which the program can \
             print with fmt.Printf(\"%p\\n\", m))",
            self.path.display()
        )
    }

    /// `runtime.types`: the base of runtime type descriptor offsets.
    pub fn types_base(&self) -> Option<u64> {
        self.symbol("runtime.types").map(|(a, _)| a)
    }

    /// The name of the runtime type descriptor at `addr` (`main.Item`, `*errors.errorString`:
    /// what `%T` prints), read through `r`.
    pub fn runtime_type_name<R: MemoryReader + ?Sized>(
        &self,
        r: &R,
        addr: u64,
    ) -> Result<String, String> {
        let base = self
            .types_base()
            .ok_or("no runtime.types symbol to resolve type names")?;
        let t = r.read_vec(addr, 48).map_err(|e| e.to_string())?;
        let tflag = t[20];
        let name_off = i32::from_le_bytes(t[40..44].try_into().expect("4"));
        let at = base.wrapping_add(name_off as i64 as u64);
        let head = r.read_vec(at, 11).map_err(|e| e.to_string())?;
        let (n, k) = uvarint(&head[1..]).ok_or("a type name's length is corrupt")?;
        if n > 4096 {
            return Err(format!("a type name of {n} bytes"));
        }
        let bytes = r
            .read_vec(at + 1 + k as u64, n as usize)
            .map_err(|e| e.to_string())?;
        let mut s = String::from_utf8_lossy(&bytes).into_owned();
        // tflagExtraStar: the name is stored with a leading '*' that is not part of it.
        if tflag & 2 != 0 && s.starts_with('*') {
            s.remove(0);
        }
        Ok(s)
    }

    /// The DWARF type of the runtime type descriptor at `addr`, when DWARF describes it.
    pub fn runtime_type(&self, addr: u64) -> Option<Rc<Type>> {
        let base = self.types_base()?;
        let d = self.dwarf().ok()??;
        let die = d.type_by_runtime_offset(addr.checked_sub(base)?)?;
        d.type_at(die).ok()
    }

    /// Checks a Swiss map header type DWARF gives (`map<K,V>`) against the layout chosen from
    /// the version: the same fields (`tombstonePossible` only from Go 1.25), each at the
    /// offset the layout says, and the same size.
    fn check_swiss_header(&self, header: &Type, sw: &SwissLayout) -> Result<(), String> {
        let Kind::Struct { fields } = &header.kind else {
            unreachable!("checked by the caller")
        };
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        if names.contains(&"buckets") || names.contains(&"B") {
            return Err(format!(
                "DWARF says {} is a classic map header (fields {}), but the version says {}",
                header.name,
                names.join(", "),
                self.layout.describe()
            ));
        }
        let want = sw.map.fields();
        let mut bad = Vec::new();
        for (name, off, _) in &want {
            match fields.iter().find(|f| f.name == *name) {
                Some(f) if f.offset == *off as u64 => {}
                Some(f) => bad.push(format!("{name} is at {} (expected {off})", f.offset)),
                None => bad.push(format!("there is no field {name} (expected at {off})")),
            }
        }
        for f in fields {
            if !want.iter().any(|(n, _, _)| *n == f.name) {
                bad.push(format!(
                    "it has a field {} at {} the layout does not know",
                    f.name, f.offset
                ));
            }
        }
        if header.size != sw.map.size as u64 {
            bad.push(format!(
                "it is {} bytes (expected {})",
                header.size, sw.map.size
            ));
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the map header in DWARF ({}) disagrees with the layout chosen from the Go \
                 version ({}): {}. The binary's version information and its types do not \
                 match; give the right version with --go-version if .go.buildinfo is wrong",
                header.name,
                self.layout.describe(),
                bad.join("; ")
            ))
        }
    }

    /// Checks a Swiss table type DWARF gives (`table<K,V>`, with `groups` a
    /// `groupReference<K,V>` of `data` and `lengthMask`) against the layout, and returns the
    /// group type (`groups.data`'s target).
    pub fn check_swiss_table(
        &self,
        d: &GoDwarf,
        table: &Type,
        sw: &SwissLayout,
    ) -> Result<Rc<Type>, String> {
        let bad = |why: String| {
            format!(
                "the Swiss table type in DWARF ({}) disagrees with the layout chosen from the Go \
                 version ({}): {why}",
                table.name,
                self.layout.describe()
            )
        };
        let Kind::Struct { fields } = &table.kind else {
            return Err(bad("it is not a struct".into()));
        };
        let o = &sw.table;
        let mut problems = Vec::new();
        for (name, off) in [
            ("used", o.used),
            ("capacity", o.capacity),
            ("growthLeft", o.growth_left),
            ("localDepth", o.local_depth),
            ("index", o.index),
            ("groups", o.groups_data),
        ] {
            match fields.iter().find(|f| f.name == name) {
                Some(f) if f.offset == off as u64 => {}
                Some(f) => problems.push(format!("{name} is at {} (expected {off})", f.offset)),
                None => problems.push(format!("there is no field {name}")),
            }
        }
        if table.size != o.size as u64 {
            problems.push(format!("it is {} bytes (expected {})", table.size, o.size));
        }
        if !problems.is_empty() {
            return Err(bad(problems.join("; ")));
        }
        let groups = &fields
            .iter()
            .find(|f| f.name == "groups")
            .expect("checked")
            .ty;
        let Kind::Struct { fields: gf } = &groups.kind else {
            return Err(bad(format!("groups is a {}, not a struct", groups.name)));
        };
        let data = gf.iter().find(|f| f.name == "data" && f.offset == 0);
        let mask = gf
            .iter()
            .find(|f| f.name == "lengthMask" && f.offset == (o.length_mask - o.groups_data) as u64);
        let (Some(data), Some(_)) = (data, mask) else {
            return Err(bad(format!(
                "groups ({}) has no data at 0 and lengthMask at {}",
                groups.name,
                o.length_mask - o.groups_data
            )));
        };
        match data.ty.kind {
            Kind::Pointer {
                target: Some(target),
            } => d.type_at(target),
            _ => Err(bad("groups.data is not a pointer to a group type".into())),
        }
    }

    /// Reads the runtime's map type descriptor at offset `off` from `runtime.types`, by the
    /// field names DWARF gives `internal/abi.SwissMapType` (Go 1.24–1.25) or
    /// `internal/abi.MapType` (1.26+). `None` when the binary has no such DWARF type or no
    /// `runtime.types` symbol.
    pub fn runtime_map_type<R: MemoryReader + ?Sized>(
        &self,
        r: &R,
        off: u64,
    ) -> Result<Option<RuntimeMapType>, String> {
        let Some(base) = self.types_base() else {
            return Ok(None);
        };
        let Some(d) = self.dwarf()? else {
            return Ok(None);
        };
        let Some(die) = d
            .struct_named("internal/abi.SwissMapType")
            .or_else(|| d.struct_named("internal/abi.MapType"))
        else {
            return Ok(None);
        };
        let t = d.type_at(die)?;
        let Kind::Struct { fields } = &t.kind else {
            return Ok(None);
        };
        if t.size == 0 || t.size > 4096 {
            return Err(format!("DWARF's {} is {} bytes", t.name, t.size));
        }
        let addr = base.wrapping_add(off);
        let raw = r
            .read_vec(addr, t.size as usize)
            .map_err(|e| format!("reading the runtime map type at {addr:#x}: {e}"))?;
        let field = |n: &str| -> Option<u64> {
            let f = fields.iter().find(|f| f.name == n)?;
            let (o, sz) = (f.offset as usize, f.ty.size as usize);
            let b = raw.get(o..o + sz)?;
            let mut w = [0u8; 8];
            w[..sz.min(8)].copy_from_slice(&b[..sz.min(8)]);
            Some(u64::from_le_bytes(w))
        };
        let group_size =
            field("GroupSize").ok_or_else(|| format!("{} has no GroupSize", t.name))?;
        let flags = field("Flags").ok_or_else(|| format!("{} has no Flags", t.name))? as u32;
        let (keys_off, key_stride, elems_off, elem_stride) = match (
            field("KeysOff"),
            field("KeyStride"),
            field("ElemsOff"),
            field("ElemStride"),
        ) {
            (Some(a), Some(b), Some(c), Some(e)) => (a, b, c, e),
            _ => {
                let slot = field("SlotSize")
                    .ok_or_else(|| format!("{} has neither SlotSize nor KeysOff", t.name))?;
                let eo = field("ElemOff").ok_or_else(|| format!("{} has no ElemOff", t.name))?;
                // Go 1.24–1.26: the slots start right after the 8-byte ctrl word
                // (groupSlotsOffset).
                (8, slot, 8 + eo, slot)
            }
        };
        Ok(Some(RuntimeMapType {
            group_size,
            keys_off,
            key_stride,
            elems_off,
            elem_stride,
            flags,
            what: format!(
                "{} at {addr:#x}: GroupSize {group_size}, keys at {keys_off} every \
                 {key_stride}, elems at {elems_off} every {elem_stride}, Flags {flags:#x}",
                t.name
            ),
        }))
    }

    /// Checks the map header type DWARF gives (`hash<K,V>`) against the layout chosen from
    /// the version: every field at the offset the layout says, and the same size.
    pub fn check_header_type(&self, header: &Type) -> Result<(), String> {
        let Kind::Struct { fields } = &header.kind else {
            return Err(format!(
                "the map's header type {} is not a struct in DWARF",
                header.name
            ));
        };
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        let classic = match &self.layout.imp {
            MapImpl::Classic(c) => c,
            MapImpl::Swiss(sw) => return self.check_swiss_header(header, sw),
            MapImpl::Unsupported(_) => return Ok(()),
        };
        if names.contains(&"dirPtr") || names.contains(&"dirLen") {
            return Err(format!(
                "DWARF says {} is a Swiss-table map (fields {}), but the version says {}",
                header.name,
                names.join(", "),
                self.layout.describe()
            ));
        }
        let mut bad = Vec::new();
        for (name, off, _) in classic.hmap.fields() {
            match fields.iter().find(|f| f.name == name) {
                Some(f) if f.offset == off as u64 => {}
                Some(f) => bad.push(format!("{name} is at {} (expected {off})", f.offset)),
                None => bad.push(format!("there is no field {name} (expected at {off})")),
            }
        }
        if let Some(f) = fields
            .iter()
            .find(|f| !classic.hmap.fields().iter().any(|(n, _, _)| *n == f.name))
        {
            bad.push(format!(
                "it has a field {} at {} the layout does not know",
                f.name, f.offset
            ));
        }
        if header.size != classic.hmap.size as u64 {
            bad.push(format!(
                "it is {} bytes (expected {})",
                header.size, classic.hmap.size
            ));
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the map header in DWARF ({}) disagrees with the layout chosen from the Go \
                 version ({}): {}. The binary's version information and its types do not \
                 match; give the right version with --go-version if .go.buildinfo is wrong",
                header.name,
                self.layout.describe(),
                bad.join("; ")
            ))
        }
    }
}
