//! A real headless Chromium (Debian's `chromium` package), driven over the DevTools protocol
//! through a pipe (`--remote-debugging-pipe`: the browser reads commands on its fd 3 and
//! writes answers and events on its fd 4, each a JSON text ended by a NUL byte). No framework,
//! no download: a test opens a page, evaluates expressions in it, presses keys, clicks, takes
//! screenshots, and gets every network request, console error and uncaught exception the
//! page caused.
//!
//! Every wait has a time limit, and dropping a [`Browser`] closes it (or kills it).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long one protocol call may take.
const CALL_LIMIT: Duration = Duration::from_secs(60);

/// The `chromium` command, or why there is none.
pub(crate) fn chromium() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("chromium"))
            .find(|c| c.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "chromium is not installed. The HTML tests load each page in a real headless \
             Chromium and never skip: apt-get install chromium (./scripts/test-all installs it)"
        )
    })
}

/// A pipe whose two ends are closed on exec.
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` is an array of two c_ints, as pipe2 requires; on success both are new
    // descriptors that nothing else owns, so each becomes one OwnedFd.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(r, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: fds[0] and fds[1] were just opened by pipe2 and are owned by nothing else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// A headless Chromium with one page.
pub(crate) struct Browser {
    child: Child,
    to: File,
    from: Receiver<Value>,
    next: u64,
    session: String,
    events: Vec<Value>,
    profile: PathBuf,
    url: String,
}

impl Browser {
    /// Starts Chromium with a fresh profile in `target/tmp/<name>-profile-<pid>`, and opens
    /// a blank page of `width` x `height` CSS pixels.
    pub(crate) fn launch(name: &str, width: u32, height: u32) -> Browser {
        let profile = super::tmp_dir(&format!("{name}-profile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("create the browser profile directory");
        let (cmd_r, cmd_w) = pipe();
        let (ev_r, ev_w) = pipe();
        let (a, b) = (cmd_r.as_raw_fd(), ev_w.as_raw_fd());
        let mut cmd = Command::new(chromium());
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={width},{height}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: the closure runs in the child between fork and exec and calls only fcntl
        // and dup2, which are async-signal-safe. It copies the pipe ends to fds 10 and up
        // first, so that neither is overwritten before it is copied to 3 or 4; dup2 clears
        // close-on-exec on 3 and 4, so the browser keeps them.
        unsafe {
            cmd.pre_exec(move || {
                let a2 = libc::fcntl(a, libc::F_DUPFD, 10);
                let b2 = libc::fcntl(b, libc::F_DUPFD, 10);
                if a2 < 0 || b2 < 0 || libc::dup2(a2, 3) < 0 || libc::dup2(b2, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", chromium().display()));
        drop((cmd_r, ev_w));
        let (tx, from) = mpsc::channel();
        let mut reader = File::from(ev_r);
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = vec![0u8; 1 << 16];
            loop {
                let n = match reader.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|&c| c == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    match serde_json::from_slice(&msg[..msg.len() - 1]) {
                        Ok(v) => {
                            if tx.send(v).is_err() {
                                return;
                            }
                        }
                        Err(e) => eprintln!("chromium sent a message that is not JSON: {e}"),
                    }
                }
            }
        });
        let mut br = Browser {
            child,
            to: File::from(cmd_w),
            from,
            next: 0,
            session: String::new(),
            events: Vec::new(),
            profile,
            url: String::new(),
        };
        let target = br.browser_call("Target.createTarget", json!({"url": "about:blank"}));
        let id = target["targetId"].clone();
        let attached = br.browser_call(
            "Target.attachToTarget",
            json!({"targetId": id, "flatten": true}),
        );
        br.session = attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        for domain in [
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
            "Page.enable",
        ] {
            br.call(domain, json!({}));
        }
        br.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        br
    }

    fn send(&mut self, method: &str, params: Value, session: bool) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if session {
            msg["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&msg).expect("a command serializes");
        bytes.push(0);
        self.to
            .write_all(&bytes)
            .unwrap_or_else(|e| panic!("sending {method} to chromium: {e}"));
        let deadline = Instant::now() + CALL_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from.recv_timeout(left) {
                Ok(v) if v["id"].as_u64() == Some(id) => {
                    if let Some(e) = v.get("error") {
                        panic!("chromium: {method} failed: {e}");
                    }
                    return v["result"].clone();
                }
                Ok(v) => self.events.push(v),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("chromium did not answer {method} within {CALL_LIMIT:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("chromium closed its pipe while answering {method}")
                }
            }
        }
    }

    fn browser_call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, false)
    }

    /// A call on the page's session.
    pub(crate) fn call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, true)
    }

    /// Opens a file and waits until its script has drawn the page (`body[data-ready]`);
    /// returns the time that took, as the browser measured it (ms since navigation start).
    pub(crate) fn open(&mut self, file: &Path) -> f64 {
        let path = file.canonicalize().expect("the page exists");
        self.url = format!("file://{}", path.display());
        self.events.clear();
        self.call("Page.navigate", json!({"url": self.url}));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.eval("document.body ? document.body.dataset.ready || '' : ''");
            if let Some(ms) = v.as_str().filter(|s| !s.is_empty()) {
                return ms.parse().expect("data-ready holds a time");
            }
            assert!(
                Instant::now() < deadline,
                "{} was not ready within 60 s; errors: {:?}",
                file.display(),
                self.errors()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Evaluates an expression in the page (awaiting a promise) and returns its value;
    /// panics when it throws.
    pub(crate) fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("evaluating {expr:?} threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Evaluates until the expression is truthy (at most 10 s).
    pub(crate) fn wait_for(&mut self, expr: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.eval(expr);
            if !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0)) {
                return v;
            }
            assert!(Instant::now() < deadline, "{expr} stayed false for 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Presses a key (`ArrowRight`, `ArrowLeft`, `Escape`, ...).
    pub(crate) fn key(&mut self, key: &str) {
        let code = match key {
            "ArrowLeft" => 37,
            "ArrowRight" => 39,
            "Escape" => 27,
            "Home" => 36,
            "End" => 35,
            other => panic!("no key code for {other}"),
        };
        for ty in ["rawKeyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": ty, "key": key, "code": key, "windowsVirtualKeyCode": code}),
            );
        }
    }

    /// Clicks at a point of the viewport (CSS pixels), as a mouse would.
    pub(crate) fn click(&mut self, x: f64, y: f64) {
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": "mouseMoved", "x": x, "y": y}),
        );
        for ty in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": ty, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Scrolls the element `selector` names into view and clicks its middle (or the point
    /// `(dx, dy)` from its top left corner).
    pub(crate) fn click_on(&mut self, selector: &str, at: Option<(f64, f64)>) {
        let sel = serde_json::to_string(selector).expect("a string");
        let r = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return null; \
             e.scrollIntoView({{block: 'center', inline: 'center'}}); const r = e.getBoundingClientRect(); \
             return [r.left, r.top, r.width, r.height]; }})()"
        ));
        let r: Vec<f64> =
            serde_json::from_value(r).unwrap_or_else(|_| panic!("no element {selector} to click"));
        let (x, y) = match at {
            Some((dx, dy)) => (r[0] + dx, r[1] + dy),
            None => (r[0] + r[2] / 2.0, r[1] + r[3] / 2.0),
        };
        self.click(x, y);
    }

    /// Saves a screenshot of the viewport as a PNG file.
    pub(crate) fn screenshot(&mut self, file: &Path) {
        use base64::Engine as _;
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().expect("screenshot data"))
            .expect("the screenshot is base64");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        if let Some(d) = file.parent() {
            std::fs::create_dir_all(d).expect("create the screenshot directory");
        }
        std::fs::write(file, png).expect("write the screenshot");
    }

    /// Every request the page made since it was opened, but the page itself.
    pub(crate) fn requests(&mut self) -> Vec<String> {
        self.drain();
        let url = self.url.clone();
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .map(|e| {
                e["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string()
            })
            .filter(|u| *u != url)
            .collect()
    }

    /// Every console error, failed load, policy violation and uncaught exception since the
    /// page was opened.
    pub(crate) fn errors(&mut self) -> Vec<String> {
        self.drain();
        let mut out = Vec::new();
        for e in &self.events {
            let p = &e["params"];
            match e["method"].as_str() {
                Some("Runtime.exceptionThrown") => out.push(format!(
                    "exception: {}",
                    p["exceptionDetails"]["exception"]["description"]
                        .as_str()
                        .unwrap_or_else(|| p["exceptionDetails"]["text"].as_str().unwrap_or("?"))
                )),
                Some("Runtime.consoleAPICalled")
                    if matches!(p["type"].as_str(), Some("error" | "assert")) =>
                {
                    out.push(format!("console.{}: {}", p["type"], p["args"]))
                }
                Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                    out.push(format!("log: {}", p["entry"]["text"]))
                }
                _ => {}
            }
        }
        out
    }

    /// Collects the events that arrived since the last call.
    fn drain(&mut self) {
        while let Ok(v) = self.from.try_recv() {
            self.events.push(v);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.next += 1;
        let msg = json!({"id": self.next, "method": "Browser.close", "params": {}});
        if let Ok(mut bytes) = serde_json::to_vec(&msg) {
            bytes.push(0);
            let _ = self.to.write_all(&bytes);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
