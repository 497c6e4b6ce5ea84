# Drives one gdb session for inspect/tests/gdb.rs (run as `gdb -batch ... -x session.py PROG`).
#
# The session is described by the JSON file named in $GOMAP_GDB_SESSION:
#   stop      the breakpoint function; its argument `name` is the state's name (a NUL-terminated
#             C string for the Rust target, a Go string for the Go target)
#   args      the program's arguments
#   setup     gdb commands to run before starting
#   commands  gdb commands to run at every stop, in the caller's frame (the one that owns `m`)
#   extra     {state: [commands]} run after `commands` at that state
#   kill_at   the state after which the program is killed instead of continued
#   out       where to write the results (JSON)
# Each command's output is captured exactly as gdb prints it (gdb.execute(..., to_string=True));
# a command that fails is recorded with its error message.

import json
import os
import struct
import traceback

import gdb

gomap_test_saved = []


def gomap_test_poke(base, off, fmt, value):
    """Writes struct.pack(fmt, value) at base+off in the GoMap `m` of the selected frame.

    base and value may name an address: "header" (&m.raw.h) or "bucket0" (m's bucket array).
    The old bytes are saved for gomap_test_restore()."""
    inf = gdb.selected_inferior()
    h = int(gdb.parse_and_eval("&m.raw.h"))
    buckets = int.from_bytes(inf.read_memory(h + 16, 8).tobytes(), "little")
    bases = {"header": h, "bucket0": buckets}
    addr = bases[base] + off
    if isinstance(value, str):
        value = bases[value]
    data = struct.pack(fmt, value)
    gomap_test_saved.append((addr, inf.read_memory(addr, len(data)).tobytes()))
    inf.write_memory(addr, data)


def gomap_test_restore():
    inf = gdb.selected_inferior()
    while gomap_test_saved:
        addr, data = gomap_test_saved.pop()
        inf.write_memory(addr, data)


def gomap_test_state_name():
    v = gdb.selected_frame().read_var("name")
    inf = gdb.selected_inferior()
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR:
        p = int(v)
        data = inf.read_memory(p, 64).tobytes()
        return data.split(b"\0", 1)[0].decode()
    n = int(v["len"])
    return inf.read_memory(int(v["str"]), n).tobytes().decode()


def gomap_test_alive():
    return gdb.selected_inferior().pid != 0


def gomap_test_main():
    cfg_path = os.environ["GOMAP_GDB_SESSION"]
    with open(cfg_path) as f:
        cfg = json.load(f)
    results = {"stops": [], "exit_codes": [], "driver_error": None}
    gdb.events.exited.connect(
        lambda ev: results["exit_codes"].append(getattr(ev, "exit_code", None)))
    try:
        for c in cfg.get("setup", []):
            gdb.execute(c, to_string=True)
        gdb.execute("set args " + " ".join(cfg.get("args", [])))
        gdb.execute("break " + cfg["stop"], to_string=True)
        gdb.execute("run", to_string=True)
        for _ in range(cfg.get("max_stops", 50)):
            if not gomap_test_alive():
                break
            name = gomap_test_state_name()
            gdb.selected_frame().older().select()
            stop = {"state": name, "results": []}
            for cmd in cfg.get("commands", []) + cfg.get("extra", {}).get(name, []):
                try:
                    out, err = gdb.execute(cmd, to_string=True), None
                except gdb.error as e:
                    out, err = "", str(e)
                stop["results"].append({"cmd": cmd, "out": out, "error": err})
            results["stops"].append(stop)
            if name == cfg.get("kill_at"):
                gdb.execute("kill", to_string=True)
                break
            gdb.execute("continue", to_string=True)
    except Exception:
        results["driver_error"] = traceback.format_exc()
    with open(cfg["out"], "w") as f:
        json.dump(results, f, indent=1)


gomap_test_main()
