//! `CheckedMap`'s fatal path, for real: each test re-runs this test binary as a child process
//! that misuses a map, and checks what the child printed on stderr (Go's message, both
//! parties with their threads and source locations, the last three write-flag transitions)
//! and how it died (SIGABRT, without unwinding).
//!
//! The overlaps are deterministic, without any hook in the library: the keys hash through
//! `Key`'s `Hash`, which the map calls *inside* an operation (after the detector let it in),
//! and which, for the key `BLOCK`, announces that it is inside and then never returns. The
//! other thread starts its operation only after that announcement, so the two operations
//! really overlap inside the map. An iteration overlaps simply by being alive.
//!
//! Where each call is made is not typed into the tests: the child prints the file and line of
//! each labelled call (`at!`), and the parent looks for exactly those in the report.
#![cfg(not(miri))] // spawns processes

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use gomap::sync::CheckedMap;
use gomap::{GoMap, HashAdapter};

/// Selects the scenario in the child process.
const SCENARIO: &str = "GOMAP_CHECKED_MAP_SCENARIO";

/// The key whose hashing never returns.
const BLOCK: u64 = 0xb10c;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Key(u64);

impl Hash for Key {
    fn hash<S: Hasher>(&self, state: &mut S) {
        if self.0 == BLOCK {
            hold();
        }
        self.0.hash(state);
    }
}

type Map = CheckedMap<Key, u64, HashAdapter<BuildHasherDefault<DefaultHasher>>>;

fn new_map() -> &'static Map {
    Box::leak(Box::new(CheckedMap::from(GoMap::with_hasher(
        BuildHasherDefault::default(),
    ))))
}

/// How many threads are holding (inside an operation, or with an iteration alive).
static ARRIVED: Mutex<usize> = Mutex::new(0);
static ARRIVAL: Condvar = Condvar::new();

/// Announces that this thread is inside the map, then stays there.
fn hold() -> ! {
    *ARRIVED.lock().unwrap() += 1;
    ARRIVAL.notify_all();
    loop {
        thread::park();
    }
}

/// Waits until `n` threads hold.
fn wait_holding(n: usize) {
    let g = ARRIVED.lock().unwrap();
    drop(ARRIVAL.wait_while(g, |a| *a < n).unwrap());
}

/// Prints `AT label file:line` for the call in `$e` (the line of this macro's invocation,
/// which is the line of the call written inside it), then evaluates it.
macro_rules! at {
    ($label:expr, $e:expr) => {{
        println!("AT {} {}:{}", $label, file!(), line!());
        $e
    }};
}

fn spawn_named(name: &str, f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .unwrap()
}

/// In the child: the panic hook and a guard that would show an unwinding, then the scenario.
/// A scenario that returns means the misuse went unnoticed.
fn child(scenario: fn()) -> ! {
    std::panic::set_hook(Box::new(|_| eprintln!("PANIC HOOK RAN")));
    struct Unwound;
    impl Drop for Unwound {
        fn drop(&mut self) {
            eprintln!("UNWOUND");
        }
    }
    let _u = Unwound;
    // On a thread of known name (libtest names its threads after the tests).
    spawn_named("scenario", scenario).join().unwrap();
    eprintln!("SCENARIO RETURNED: the misuse was not detected");
    std::process::exit(0)
}

/// Three writes by the scenario's thread: transitions #0 to #5.
fn prelude(m: &'static Map) {
    at!("prep-a", m.insert(Key(1), 1));
    at!("prep-b", m.remove(&Key(1)));
    at!("prep-c", m.insert(Key(2), 2));
}

// ---- scenarios (run in the child) -----------------------------------------------------------

fn write_while_writing() {
    let m = new_map();
    prelude(m);
    spawn_named("writer-1", move || {
        at!("w1", m.insert(Key(BLOCK), 7));
    });
    wait_holding(1);
    spawn_named("writer-2", move || {
        at!("w2", m.insert(Key(3), 3));
    })
    .join()
    .unwrap();
}

fn read_while_writing() {
    let m = new_map();
    prelude(m);
    spawn_named("writer", move || {
        at!("w", m.insert(Key(BLOCK), 7));
    });
    wait_holding(1);
    spawn_named("reader", move || {
        at!("r", m.get(&Key(2)));
    })
    .join()
    .unwrap();
}

fn write_while_reading() {
    let m = new_map();
    prelude(m);
    spawn_named("reader", move || {
        at!("r", m.get(&Key(BLOCK)));
    });
    wait_holding(1);
    spawn_named("writer", move || {
        at!("w", m.remove(&Key(2)));
    })
    .join()
    .unwrap();
}

fn write_while_iterating() {
    let m = new_map();
    prelude(m);
    at!("prep-d", m.insert(Key(4), 4));
    spawn_named("iterator", move || {
        let mut it = at!("it", m.iter());
        assert!(it.next().is_some());
        hold();
    });
    wait_holding(1);
    spawn_named("writer", move || {
        at!("w", m.insert(Key(5), 5));
    })
    .join()
    .unwrap();
}

fn iterate_while_writing() {
    let m = new_map();
    prelude(m);
    spawn_named("writer", move || {
        let clear_and_block = |m: &mut GoMap<Key, u64, _>| {
            m.clear();
            m.insert(Key(BLOCK), 0);
        };
        at!("w", m.write(clear_and_block));
    });
    wait_holding(1);
    spawn_named("iterator", move || {
        let it = at!("it", m.iter());
        drop(it);
    })
    .join()
    .unwrap();
}

fn write_inside_range_on_one_thread() {
    let m = new_map();
    prelude(m);
    let write_inside = |_: &Key, _: &u64| {
        at!("w", m.insert(Key(6), 6));
        true
    };
    at!("range", m.range(write_inside));
}

fn write_while_six_read() {
    let m = new_map();
    prelude(m);
    for i in 0..6 {
        spawn_named(&format!("reader-{i}"), move || {
            at!(format!("r{i}"), m.contains_key(&Key(BLOCK)));
        });
    }
    wait_holding(6);
    spawn_named("writer", move || {
        at!("w", m.insert(Key(7), 7));
    })
    .join()
    .unwrap();
}

// ---- the parent side ------------------------------------------------------------------------

struct Outcome {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// `file:line` of the call labelled `label`, as the child printed it.
    fn at(&self, label: &str) -> String {
        let prefix = format!("AT {label} ");
        let line = self
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("the child printed no location for {label}:\n{}", self));
        format!("{line}:")
    }

    /// The report line that starts with `prefix` (after trimming).
    fn line(&self, prefix: &str) -> &str {
        self.stderr
            .lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?}:\n{self}"))
    }

    /// The report lines after "already inside:" that continue the list of parties.
    fn parties(&self) -> Vec<&str> {
        let mut lines = self
            .stderr
            .lines()
            .skip_while(|l| !l.contains("already inside:"));
        let mut out = Vec::new();
        if let Some(first) = lines.next() {
            out.push(first);
            out.extend(lines.take_while(|l| l.starts_with("                   ")));
        }
        out
    }

    /// The transition lines of the report, oldest first.
    fn transitions(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .skip_while(|l| !l.starts_with("last 3 write-flag transitions, oldest first:"))
            .skip(1)
            .take_while(|l| l.starts_with("  #"))
            .collect()
    }

    fn check_died_of_abort(&self, message: &str) {
        let first = self.stderr.lines().next().unwrap_or("");
        assert_eq!(first, format!("fatal error: {message}"), "{self}");
        assert!(!self.stderr.contains("SCENARIO RETURNED"), "{self}");
        assert!(!self.stderr.contains("PANIC HOOK RAN"), "no panic: {self}");
        assert!(!self.stderr.contains("UNWOUND"), "no unwinding: {self}");
        assert!(!self.status.success(), "{self}");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            // SIGABRT is 6 on every Unix Rust supports.
            assert_eq!(self.status.signal(), Some(6), "died of SIGABRT: {self}");
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status: {:?}\n--- stdout\n{}--- stderr\n{}---",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Runs `test` (this test's own name) in a child with `SCENARIO` set; in the child, runs
/// `scenario` instead.
fn run(test: &str, scenario: fn()) -> Outcome {
    if std::env::var(SCENARIO).as_deref() == Ok(test) {
        child(scenario);
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(SCENARIO, test)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).unwrap();
        s
    });
    let t_err = thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            let status = child.wait().unwrap();
            let o = Outcome {
                status,
                stdout: t_out.join().unwrap(),
                stderr: t_err.join().unwrap(),
            };
            panic!("the child hung (the overlap was not detected?): {o}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

/// Checks the three transitions: (set?, op, thread, label of the call).
fn check_transitions(o: &Outcome, first: usize, want: [(bool, &str, &str, &str); 3]) {
    let lines = o.transitions();
    assert_eq!(lines.len(), 3, "{o}");
    for (i, (line, (set, op, thread, label))) in lines.iter().zip(want).enumerate() {
        let what = if set { "set    " } else { "cleared" };
        let head = format!(
            "  #{} {what} by {op} on thread '{thread}' (ThreadId(",
            first + i
        );
        assert!(
            line.starts_with(&head),
            "transition {i}: want {head:?}\n{o}"
        );
        assert!(
            line.contains(&format!(" at {}", o.at(label))),
            "{line}\n{o}"
        );
    }
}

fn check_party(line: &str, op: &str, thread: &str, o: &Outcome, label: &str) {
    let want = format!("{op} on thread '{thread}' (ThreadId(");
    assert!(line.contains(&want), "want {want:?} in {line:?}\n{o}");
    assert!(
        line.contains(&format!(" at {}", o.at(label))),
        "{line}\n{o}"
    );
}

#[test]
fn write_write() {
    let o = run("write_write", write_while_writing);
    o.check_died_of_abort("concurrent map writes");
    check_party(o.line("this operation:"), "insert", "writer-2", &o, "w2");
    let inside = o.line("already inside:");
    check_party(inside, "insert", "writer-1", &o, "w1");
    // The prelude made transitions #0-#5; writer-1's insert set the flag: #6.
    assert!(inside.contains("transition #6"), "{o}");
    check_transitions(
        &o,
        4,
        [
            (true, "insert", "scenario", "prep-c"),
            (false, "insert", "scenario", "prep-c"),
            (true, "insert", "writer-1", "w1"),
        ],
    );
}

#[test]
fn read_write_reader_arrives() {
    let o = run("read_write_reader_arrives", read_while_writing);
    o.check_died_of_abort("concurrent map read and map write");
    check_party(o.line("this operation:"), "get", "reader", &o, "r");
    check_party(o.line("already inside:"), "insert", "writer", &o, "w");
    check_transitions(
        &o,
        4,
        [
            (true, "insert", "scenario", "prep-c"),
            (false, "insert", "scenario", "prep-c"),
            (true, "insert", "writer", "w"),
        ],
    );
}

#[test]
fn read_write_writer_arrives() {
    let o = run("read_write_writer_arrives", write_while_reading);
    o.check_died_of_abort("concurrent map read and map write");
    check_party(o.line("this operation:"), "remove", "writer", &o, "w");
    check_party(o.line("already inside:"), "get", "reader", &o, "r");
    // No write entered after the prelude: its last three transitions.
    check_transitions(
        &o,
        3,
        [
            (false, "remove", "scenario", "prep-b"),
            (true, "insert", "scenario", "prep-c"),
            (false, "insert", "scenario", "prep-c"),
        ],
    );
}

#[test]
fn iterate_write_writer_arrives() {
    let o = run("iterate_write_writer_arrives", write_while_iterating);
    o.check_died_of_abort("concurrent map iteration and map write");
    check_party(o.line("this operation:"), "insert", "writer", &o, "w");
    check_party(o.line("already inside:"), "iter", "iterator", &o, "it");
    check_transitions(
        &o,
        5,
        [
            (false, "insert", "scenario", "prep-c"),
            (true, "insert", "scenario", "prep-d"),
            (false, "insert", "scenario", "prep-d"),
        ],
    );
}

#[test]
fn iterate_write_iteration_arrives() {
    let o = run("iterate_write_iteration_arrives", iterate_while_writing);
    o.check_died_of_abort("concurrent map iteration and map write");
    check_party(o.line("this operation:"), "iter", "iterator", &o, "it");
    check_party(o.line("already inside:"), "write", "writer", &o, "w");
    check_transitions(
        &o,
        4,
        [
            (true, "insert", "scenario", "prep-c"),
            (false, "insert", "scenario", "prep-c"),
            (true, "write", "writer", "w"),
        ],
    );
}

#[test]
fn iterate_write_on_one_thread() {
    let o = run(
        "iterate_write_on_one_thread",
        write_inside_range_on_one_thread,
    );
    o.check_died_of_abort("concurrent map iteration and map write");
    check_party(o.line("this operation:"), "insert", "scenario", &o, "w");
    check_party(o.line("already inside:"), "range", "scenario", &o, "range");
}

#[test]
fn read_write_with_more_readers_than_slots() {
    let o = run(
        "read_write_with_more_readers_than_slots",
        write_while_six_read,
    );
    o.check_died_of_abort("concurrent map read and map write");
    check_party(o.line("this operation:"), "insert", "writer", &o, "w");
    // Four readers are named, each at its own call; the other two are counted.
    let parties = o.parties();
    assert_eq!(parties.len(), 5, "{o}");
    let mut named = HashMap::new();
    for line in &parties[..4] {
        let i = (0..6)
            .find(|i| line.contains(&format!("thread 'reader-{i}'")))
            .unwrap_or_else(|| panic!("not a reader: {line}\n{o}"));
        check_party(
            line,
            "contains_key",
            &format!("reader-{i}"),
            &o,
            &format!("r{i}"),
        );
        assert!(named.insert(i, ()).is_none(), "named twice: {line}\n{o}");
    }
    assert!(
        parties[4].trim() == "2 more reader(s) inside, not recorded",
        "{o}"
    );
}
