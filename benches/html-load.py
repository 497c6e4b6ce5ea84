#!/usr/bin/env python3
"""Loads map-inspect HTML pages in headless Chromium and reports how long each takes to be
drawn: the time from navigation start until the page's script has drawn the grid (the page
writes it into body[data-ready], from performance.now()), and DOMContentLoaded; the median
of --runs loads, each in a fresh navigation, and the first (the browser's first page). Fails if a page logs an error or requests
anything. Drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe);
only the Python standard library.

    benches/html-load.py [--runs 5] PAGE.html...
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time


class Chromium:
    def __init__(self):
        cmd_r, self.cmd_w = os.pipe()
        self.ev_r, ev_w = os.pipe()
        a, b = os.dup(cmd_r), os.dup(ev_w)
        self.profile = tempfile.mkdtemp(prefix="html-load-")

        def fds():
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--remote-debugging-pipe",
             "--window-size=1400,1000", "--user-data-dir=" + self.profile],
            preexec_fn=fds, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (cmd_r, ev_w, a, b):
            os.close(fd)
        self.buf, self.next, self.events = b"", 0, []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for d in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
            self.call(d, {}, True)

    def _recv(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                sys.exit("chromium did not answer within 60 s")
            chunk = os.read(self.ev_r, 1 << 20)
            if not chunk:
                sys.exit("chromium closed its pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params, session=False):
        self.next += 1
        msg = {"id": self.next, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + 60
        while True:
            r = self._recv(deadline)
            if r.get("id") == self.next:
                if "error" in r:
                    sys.exit(f"{method}: {r['error']}")
                return r.get("result", {})
            self.events.append(r)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True}, True)
        return r.get("result", {}).get("value")

    def load(self, path):
        url = "file://" + os.path.abspath(path)
        self.call("Page.navigate", {"url": "about:blank"}, True)
        self.events = []
        self.call("Page.navigate", {"url": url}, True)
        deadline = time.time() + 60
        while True:
            ready = self.eval("document.body ? document.body.dataset.ready || '' : ''")
            if ready:
                break
            if time.time() > deadline:
                sys.exit(f"{path}: not drawn within 60 s")
            time.sleep(0.01)
        dcl = self.eval("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
        bad = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Network.requestWillBeSent" and p["request"]["url"] != url:
                bad.append("request " + p["request"]["url"][:80])
            if m == "Runtime.exceptionThrown" or (m == "Log.entryAdded" and p["entry"]["level"] == "error") \
                    or (m == "Runtime.consoleAPICalled" and p["type"] == "error"):
                bad.append(json.dumps(p)[:300])
        if bad:
            sys.exit(f"{path}: {bad}")
        return float(ready), float(dcl)

    def close(self):
        try:
            self.call("Browser.close", {})
        except SystemExit:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("pages", nargs="+")
    args = ap.parse_args()
    c = Chromium()
    try:
        for page in args.pages:
            ready, dcl = zip(*(c.load(page) for _ in range(args.runs)))
            print(f"{page}: {os.path.getsize(page) / 1e6:.2f} MB; drawn after "
                  f"{statistics.median(ready):.0f} ms (median of {args.runs}; first load {ready[0]:.0f}, "
                  f"max {max(ready):.0f}); DOMContentLoaded {statistics.median(dcl):.0f} ms")
    finally:
        c.close()


if __name__ == "__main__":
    main()
