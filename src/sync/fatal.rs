//! The detector behind [`CheckedMap`](super::CheckedMap): the atomic flag word, the records of
//! who is inside a map (reader slots and the log of write-flag transitions), thread
//! identities, and the report printed before the process aborts.
//!
//! # The flag word
//! One `AtomicUsize`: bit 0 is `WRITING` (Go's `hashWriting`), bit 1 is `FATAL` (a misuse was
//! detected; the records are frozen), and the bits above count the readers inside the map
//! (iterators included). Every operation changes the word with one read-modify-write
//! *before* it touches the map:
//!
//! * a write acquires with `compare_exchange(0, WRITING)`: it succeeds only when nobody is
//!   inside, and a failure means an overlap;
//! * a read acquires with `fetch_add(READER)`: the value returned says whether a writer was
//!   inside at that instant;
//! * releases are `fetch_and(!WRITING)` and `fetch_sub(READER)`.
//!
//! Because every change is a read-modify-write of one atomic, the changes have a single total
//! order, and an operation that enters has seen every operation that is inside. So a write
//! enters only when nobody is inside, and a read only when no write is: exactly the exclusion
//! of a reader-writer lock, except that a conflict aborts instead of waiting. The map itself
//! is therefore never accessed by two conflicting operations at once: no data race can
//! happen, whatever the program does. The acquiring operations use `Acquire` and the
//! releasing ones `Release`; since every change is a read-modify-write, each release heads a
//! release sequence that runs through all later changes, so whoever enters next
//! happens-after everyone who left, as with a lock.
//!
//! # The records
//! They serve only the report, and never decide anything about the map. A reader, once
//! inside, claims one of [`READER_SLOTS`] slots and writes who it is (thread, operation,
//! source location); it clears the slot when it leaves. The writer inside, and only it,
//! appends to the transition log: one entry when it sets `WRITING`, one just before it clears
//! it. A thread that detects an overlap first sets `FATAL`; from then on nothing can enter
//! the map, a reader that leaves puts its record back and stops, and a writer that leaves
//! stops after logging its last transition, so the reporter reads records that no longer
//! move. All records are atomics: reading them while they change is never a data race, only
//! possibly stale, and the reporter waits a bounded time for records being written.

use core::panic::Location;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::format;
use std::string::String;
use std::sync::{Mutex, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant};
use std::vec::Vec;

/// Bit 0: a write is inside the map (Go's `hashWriting`).
const WRITING: usize = 1;
/// Bit 1: a misuse was detected; the records are frozen and nothing enters the map any more.
const FATAL: usize = 2;
/// One reader inside (the count lives in the bits above `FATAL`).
const READER: usize = 4;

/// How many readers are recorded by name at once (more can be inside; they are counted).
pub(crate) const READER_SLOTS: usize = 4;
/// Entries kept in the transition log (the report prints the last 3; one more entry of slack
/// lets the writer inside log its last transition without overwriting them).
const LOG_LEN: usize = 4;
/// Transitions printed in the report.
const LOG_SHOWN: usize = 3;
/// How long the reporter waits for a record that is being written.
const RECORD_WAIT: Duration = Duration::from_millis(500);

/// The operations a [`CheckedMap`](super::CheckedMap) records, by the method's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Op {
    Get = 1,
    GetKeyValue,
    ContainsKey,
    Len,
    IsEmpty,
    Read,
    Debug,
    Iter,
    Range,
    Insert,
    Remove,
    RemoveEntry,
    Clear,
    Retain,
    Write,
}

/// What an operation does to the map, which decides Go's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Iterate,
    Write,
}

impl Op {
    const ALL: [Op; 15] = [
        Op::Get,
        Op::GetKeyValue,
        Op::ContainsKey,
        Op::Len,
        Op::IsEmpty,
        Op::Read,
        Op::Debug,
        Op::Iter,
        Op::Range,
        Op::Insert,
        Op::Remove,
        Op::RemoveEntry,
        Op::Clear,
        Op::Retain,
        Op::Write,
    ];

    fn from_bits(b: u8) -> Option<Op> {
        Op::ALL.iter().copied().find(|op| *op as u8 == b)
    }

    /// The method's name, as the report prints it.
    fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::GetKeyValue => "get_key_value",
            Op::ContainsKey => "contains_key",
            Op::Len => "len",
            Op::IsEmpty => "is_empty",
            Op::Read => "read",
            Op::Debug => "fmt::Debug",
            Op::Iter => "iter",
            Op::Range => "range",
            Op::Insert => "insert",
            Op::Remove => "remove",
            Op::RemoveEntry => "remove_entry",
            Op::Clear => "clear",
            Op::Retain => "retain",
            Op::Write => "write",
        }
    }

    pub(crate) fn kind(self) -> Kind {
        match self {
            Op::Get
            | Op::GetKeyValue
            | Op::ContainsKey
            | Op::Len
            | Op::IsEmpty
            | Op::Read
            | Op::Debug => Kind::Read,
            Op::Iter | Op::Range => Kind::Iterate,
            Op::Insert | Op::Remove | Op::RemoveEntry | Op::Clear | Op::Retain | Op::Write => {
                Kind::Write
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Thread identities.

/// Set in a transition's `who` when the transition set `WRITING` (clear: it cleared it).
const SET_BIT: usize = 0x80;
/// Thread numbers are packed above the operation byte.
const THREAD_SHIFT: u32 = 8;

/// The next thread number (0 means "unknown": a thread whose thread-local storage is gone).
static NEXT_THREAD: AtomicUsize = AtomicUsize::new(1);
/// The live threads that have used a `CheckedMap`: number → handle (name and `ThreadId`).
static THREADS: Mutex<Vec<(usize, Thread)>> = Mutex::new(Vec::new());

/// A thread's number; registers the thread on first use and unregisters it when it exits.
struct Tag(usize);

impl Tag {
    fn register() -> Tag {
        let n = (NEXT_THREAD.fetch_add(1, Ordering::Relaxed) & (usize::MAX >> THREAD_SHIFT)).max(1);
        THREADS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((n, std::thread::current()));
        Tag(n)
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        let mut threads = THREADS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = threads.iter().position(|(n, _)| *n == self.0) {
            threads.swap_remove(i);
        }
    }
}

std::thread_local! {
    static TAG: Tag = Tag::register();
}

/// `who` for the calling thread doing `op`: the thread number above the operation byte.
pub(crate) fn who(op: Op) -> usize {
    let thread = TAG.try_with(|t| t.0).unwrap_or(0);
    (thread << THREAD_SHIFT) | op as usize
}

fn describe_thread(n: usize) -> String {
    if n == 0 {
        return String::from("an unidentified thread (its thread-local storage was gone)");
    }
    let threads = THREADS.lock().unwrap_or_else(PoisonError::into_inner);
    match threads.iter().find(|(m, _)| *m == n) {
        Some((_, t)) => match t.name() {
            Some(name) => format!("thread '{}' ({:?})", name, t.id()),
            None => format!("thread <unnamed> ({:?})", t.id()),
        },
        None => format!("thread #{n} (exited)"),
    }
}

/// "insert on thread 'w' (ThreadId(3)) at src/main.rs:10:5"
fn describe(who: usize, loc: Option<&'static Location<'static>>) -> String {
    let op = Op::from_bits((who & 0x7f) as u8).map_or("an operation", Op::name);
    let thread = describe_thread(who >> THREAD_SHIFT);
    match loc {
        Some(l) => format!("{op} on {thread} at {l}"),
        None => format!("{op} on {thread} at an unrecorded location"),
    }
}

fn loc_ptr(loc: &'static Location<'static>) -> *mut Location<'static> {
    ptr::from_ref(loc).cast_mut()
}

fn loc_ref(p: *mut Location<'static>) -> Option<&'static Location<'static>> {
    // SAFETY: every non-null pointer stored in a record came from `loc_ptr` of a
    // `&'static Location<'static>` (`Location::caller()`); it is only ever read through.
    unsafe { p.cast_const().as_ref() }
}

// ---------------------------------------------------------------------------------------------
// The records.

/// A reader inside the map: `who` (0: free) and where it was called.
struct ReaderSlot {
    who: AtomicUsize,
    loc: AtomicPtr<Location<'static>>,
}

/// One write-flag transition: `t + 1` (0: empty), who (with [`SET_BIT`]) and where.
struct Transition {
    t: AtomicUsize,
    who: AtomicUsize,
    loc: AtomicPtr<Location<'static>>,
}

/// What a reader holds while inside: the slot it claimed, if any.
pub(crate) struct ReadTicket {
    who: usize,
    loc: &'static Location<'static>,
    slot: Option<usize>,
}

/// The detector of one map: the flag word and the records (see the module docs).
pub(crate) struct Detector {
    state: AtomicUsize,
    readers: [ReaderSlot; READER_SLOTS],
    /// The number of transitions logged so far; written only by the writer inside.
    next: AtomicUsize,
    log: [Transition; LOG_LEN],
}

/// Set by the first thread that reports a misuse, in any map: the others stop and wait for the
/// abort, so that one report is printed whole.
static ABORTING: AtomicBool = AtomicBool::new(false);

impl Detector {
    pub(crate) const fn new() -> Self {
        Detector {
            state: AtomicUsize::new(0),
            readers: [const {
                ReaderSlot {
                    who: AtomicUsize::new(0),
                    loc: AtomicPtr::new(ptr::null_mut()),
                }
            }; READER_SLOTS],
            next: AtomicUsize::new(0),
            log: [const {
                Transition {
                    t: AtomicUsize::new(0),
                    who: AtomicUsize::new(0),
                    loc: AtomicPtr::new(ptr::null_mut()),
                }
            }; LOG_LEN],
        }
    }

    /// Enters a write: sets `WRITING` if nobody is inside, otherwise reports and aborts.
    #[inline]
    pub(crate) fn begin_write(&self, op: Op, loc: &'static Location<'static>) -> usize {
        let who = who(op);
        if let Err(seen) =
            self.state
                .compare_exchange(0, WRITING, Ordering::Acquire, Ordering::Relaxed)
        {
            self.detected(who, loc, seen);
        }
        self.record(who | SET_BIT, loc);
        who
    }

    /// Leaves a write: logs the transition, then clears `WRITING`.
    #[inline]
    pub(crate) fn end_write(&self, who: usize, loc: &'static Location<'static>) {
        self.record(who, loc);
        let s = self.state.fetch_and(!WRITING, Ordering::Release);
        if s & FATAL != 0 {
            // Someone found this write overlapping theirs and is reporting it.
            park_forever();
        }
    }

    /// Appends a transition; only the writer inside calls it.
    #[inline]
    fn record(&self, who: usize, loc: &'static Location<'static>) {
        // The writer inside is the only writer of `next`; the previous one's store
        // happened-before our acquisition.
        let n = self.next.load(Ordering::Relaxed);
        let e = &self.log[n % LOG_LEN];
        e.t.store(n.wrapping_add(1), Ordering::Relaxed);
        e.who.store(who, Ordering::Relaxed);
        e.loc.store(loc_ptr(loc), Ordering::Relaxed);
        self.next.store(n.wrapping_add(1), Ordering::Release);
    }

    /// Enters a read (or an iteration): counts the reader in if no write is inside, otherwise
    /// reports and aborts. Then records who it is in a free slot.
    #[inline]
    pub(crate) fn begin_read(&self, op: Op, loc: &'static Location<'static>) -> ReadTicket {
        let who = who(op);
        let seen = self.state.fetch_add(READER, Ordering::Acquire);
        if seen & (WRITING | FATAL) != 0 {
            // Not inside after all: undo the count, so that the counts name real readers.
            self.state.fetch_sub(READER, Ordering::Relaxed);
            if seen & FATAL != 0 {
                park_forever();
            }
            self.detected(who, loc, seen);
        }
        ReadTicket {
            who,
            loc,
            slot: self.claim_slot(who, loc),
        }
    }

    /// Leaves a read: frees the slot, then the count. If a misuse was reported meanwhile, this
    /// reader was inside when it happened: it records itself again and stops.
    #[inline]
    pub(crate) fn end_read(&self, ticket: &ReadTicket) {
        if let Some(i) = ticket.slot {
            let s = &self.readers[i];
            s.loc.store(ptr::null_mut(), Ordering::Relaxed);
            s.who.store(0, Ordering::Release);
        }
        let s = self.state.fetch_sub(READER, Ordering::Release);
        if s & FATAL != 0 {
            self.claim_slot(ticket.who, ticket.loc);
            park_forever();
        }
    }

    #[inline]
    fn claim_slot(&self, who: usize, loc: &'static Location<'static>) -> Option<usize> {
        // Start at a slot that depends on the thread, so that threads rarely contend.
        let start = who >> THREAD_SHIFT;
        for k in 0..READER_SLOTS {
            let i = (start + k) % READER_SLOTS;
            let s = &self.readers[i];
            if s.who
                .compare_exchange(0, who, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                s.loc.store(loc_ptr(loc), Ordering::Release);
                return Some(i);
            }
        }
        None
    }

    /// An overlap: `who` at `loc` found the flag word at `seen`. Freezes the records, prints
    /// Go's message and the diagnostic, and aborts.
    #[cold]
    #[inline(never)]
    fn detected(&self, who: usize, loc: &'static Location<'static>, seen: usize) -> ! {
        let frozen = self.state.fetch_or(FATAL, Ordering::AcqRel);
        if frozen & FATAL != 0 || ABORTING.swap(true, Ordering::AcqRel) {
            // Another thread is already reporting (this overlap, or another one).
            park_forever();
        }
        let report = self.report(who, loc, seen, frozen);
        {
            use std::io::Write;
            let mut err = std::io::stderr();
            // Nothing better to do if stderr is gone: the abort still happens.
            let _ = err.write_all(report.as_bytes());
            let _ = err.flush();
        }
        std::process::abort();
    }

    /// The report (see [`CheckedMap`](super::CheckedMap) for its form).
    fn report(
        &self,
        who: usize,
        loc: &'static Location<'static>,
        seen: usize,
        frozen: usize,
    ) -> String {
        let deadline = Instant::now() + RECORD_WAIT;
        let me = Op::from_bits((who & 0x7f) as u8).map_or(Kind::Write, Op::kind);
        let against_writer = me != Kind::Write || seen & WRITING != 0;
        let mut out = String::new();
        let mut parties = Vec::new();
        let message = if against_writer {
            match self.find_writer(deadline) {
                Some((t, w, l)) => parties.push(format!(
                    "{}  (the write that set the flag in transition #{t})",
                    describe(w & !SET_BIT, l)
                )),
                None => parties.push(String::from("a write whose record was not written in time")),
            }
            match me {
                Kind::Write => "concurrent map writes",
                Kind::Read => "concurrent map read and map write",
                Kind::Iterate => "concurrent map iteration and map write",
            }
        } else {
            // The readers inside when the records froze: each of them is, or will be, in a
            // slot (up to READER_SLOTS). Those that left before cannot be named.
            let inside = (frozen & !(WRITING | FATAL)) / READER;
            let readers = self.find_readers(inside, deadline);
            let iterating = readers
                .iter()
                .any(|(w, _)| Op::from_bits((w & 0x7f) as u8).map(Op::kind) == Some(Kind::Iterate));
            for (w, l) in &readers {
                parties.push(describe(*w, *l));
            }
            if readers.len() < inside {
                parties.push(format!(
                    "{} more reader(s) inside, not recorded",
                    inside - readers.len()
                ));
            }
            if inside == 0 {
                parties.push(String::from("a reader that left before it could be named"));
            }
            if iterating {
                "concurrent map iteration and map write"
            } else {
                "concurrent map read and map write"
            }
        };
        out.push_str(&format!("fatal error: {message}\n\n"));
        out.push_str("gomap::sync::CheckedMap: two operations overlapped on one map.\n");
        out.push_str(&format!(
            "  this operation:  {}\n",
            describe(who, Some(loc))
        ));
        for (i, p) in parties.iter().enumerate() {
            let label = if i == 0 {
                "  already inside:  "
            } else {
                "                   "
            };
            out.push_str(&format!("{label}{p}\n"));
        }
        out.push_str(&self.transitions());
        out.push_str(
            "\nThis is a bug in the program: the map was shared without synchronization. Go \
             would exit with status 2; gomap aborts the process (SIGABRT), without unwinding.\n",
        );
        out
    }

    /// The writer inside: the latest transition, once it is a "set" while `WRITING` is set;
    /// or, if the writer already left, the last "set" in the log.
    fn find_writer(
        &self,
        deadline: Instant,
    ) -> Option<(usize, usize, Option<&'static Location<'static>>)> {
        loop {
            let writing = self.state.load(Ordering::Acquire) & WRITING != 0;
            let n = self.next.load(Ordering::Acquire);
            let last = self.entry(n.wrapping_sub(1));
            match last {
                Some((_, w, _)) if w & SET_BIT != 0 => return last,
                _ if !writing => {
                    return self
                        .entry(n.wrapping_sub(2))
                        .filter(|(_, w, _)| w & SET_BIT != 0);
                }
                _ => {}
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::yield_now();
        }
    }

    /// Transition `t`, if the log still holds it.
    fn entry(&self, t: usize) -> Option<(usize, usize, Option<&'static Location<'static>>)> {
        let e = &self.log[t % LOG_LEN];
        let stored = e.t.load(Ordering::Acquire);
        let who = e.who.load(Ordering::Relaxed);
        let loc = loc_ref(e.loc.load(Ordering::Relaxed));
        (stored != 0 && stored == t.wrapping_add(1)).then_some((t, who, loc))
    }

    /// The recorded readers, once `min(inside, READER_SLOTS)` slots are filled (or at the
    /// deadline).
    fn find_readers(
        &self,
        inside: usize,
        deadline: Instant,
    ) -> Vec<(usize, Option<&'static Location<'static>>)> {
        loop {
            let mut found = Vec::new();
            for s in &self.readers {
                let who = s.who.load(Ordering::Acquire);
                let loc = s.loc.load(Ordering::Acquire);
                if who != 0 && !loc.is_null() && s.who.load(Ordering::Acquire) == who {
                    found.push((who, loc_ref(loc)));
                }
            }
            if found.len() >= inside.min(READER_SLOTS) || Instant::now() >= deadline {
                return found;
            }
            std::thread::yield_now();
        }
    }

    /// The last [`LOG_SHOWN`] transitions, oldest first.
    fn transitions(&self) -> String {
        let n = self.next.load(Ordering::Acquire);
        let mut out = format!("last {LOG_SHOWN} write-flag transitions, oldest first:\n");
        if n == 0 {
            out.push_str("  (none: no write has entered this map)\n");
        }
        for t in n.saturating_sub(LOG_SHOWN)..n {
            match self.entry(t) {
                Some((_, w, l)) => {
                    let what = if w & SET_BIT != 0 {
                        "set    "
                    } else {
                        "cleared"
                    };
                    out.push_str(&format!("  #{t} {what} by {}\n", describe(w & !SET_BIT, l)));
                }
                None => out.push_str(&format!("  #{t} (overwritten)\n")),
            }
        }
        out
    }
}

/// Stops the calling thread for good: the process is about to abort.
fn park_forever() -> ! {
    loop {
        std::thread::park();
    }
}
