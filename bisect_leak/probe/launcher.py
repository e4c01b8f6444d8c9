"""Run uvicorn in-process with a side channel for "what grows" (stdlib only, Python 3.7+).

Run by path inside the target env; never imports bisect_leak. Usage:

    python launcher.py --control-port N APP --host 127.0.0.1 --port M [uvicorn options]

The side channel is a loopback TCP socket that takes one command per connection and answers
one JSON line: ``baseline`` (collect garbage, remember object counts by type and a
tracemalloc snapshot) or ``diff`` (collect again and report the top growers since baseline).
It never touches the app's routes.
"""

import gc
import json
import os
import socket
import sys
import threading
import tracemalloc

TOP = 15
_state = {}


def count_types():
    """Objects by type name: gc-tracked objects and the untracked ones they refer to."""
    counts = {}
    seen = set()
    tracked = gc.get_objects()
    for obj in tracked:
        seen.add(id(obj))
        name = type(obj).__name__
        counts[name] = counts.get(name, 0) + 1
    for obj in tracked:
        for ref in gc.get_referents(obj):
            if id(ref) in seen or gc.is_tracked(ref):
                continue
            seen.add(id(ref))
            name = type(ref).__name__
            counts[name] = counts.get(name, 0) + 1
    del tracked
    return counts


def _snapshot():
    if not tracemalloc.is_tracing():
        return None
    return tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
    )


def baseline():
    gc.collect()
    # Snapshot first, count second: both counts then hold exactly this one snapshot.
    _state["snapshot"] = _snapshot()
    _state["types"] = count_types()
    return {"ok": True, "objects": sum(_state["types"].values())}


def diff():
    if "types" not in _state:
        return {"ok": False, "error": "no baseline"}
    gc.collect()
    now = count_types()
    before = _state["types"]
    growth = sorted(
        ((name, now.get(name, 0) - before.get(name, 0)) for name in set(now) | set(before)),
        key=lambda item: -item[1],
    )
    types = [[name, delta, now.get(name, 0)] for name, delta in growth[:TOP] if delta > 0]
    sites = []
    if _state.get("snapshot") is not None:
        snap = _snapshot()
        for stat in snap.compare_to(_state["snapshot"], "lineno")[:TOP]:
            if stat.size_diff <= 0:
                continue
            frame = stat.traceback[0]
            sites.append([f"{frame.filename}:{frame.lineno}", stat.size_diff,
                          stat.count_diff])
    return {"ok": True, "types": types, "sites": sites, "gc_counts": list(gc.get_count())}


def serve_control(sock):
    while True:
        conn, _ = sock.accept()
        try:
            command = conn.makefile("r").readline().strip()
            if command == "baseline":
                answer = baseline()
            elif command == "diff":
                answer = diff()
            else:
                answer = {"ok": False, "error": f"unknown command {command!r}"}
        except Exception as exc:  # report, never kill the server under test
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        try:
            conn.sendall((json.dumps(answer) + "\n").encode())
        finally:
            conn.close()


def main(argv):
    if len(argv) < 3 or argv[0] != "--control-port":
        sys.stderr.write(__doc__)
        return 2
    control_port = int(argv[1])
    uvicorn_args = argv[2:]
    sys.path.insert(0, os.getcwd())  # the scenario folder, as `python -m uvicorn` would have
    if os.environ.get("BISECT_LEAK_TRACEMALLOC", "1") == "1":
        tracemalloc.start(1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", control_port))
    sock.listen(4)
    thread = threading.Thread(target=serve_control, args=(sock,), name="bisect-leak-control")
    thread.daemon = True
    thread.start()
    from uvicorn.main import main as uvicorn_main

    sys.argv = ["uvicorn"] + uvicorn_args
    return uvicorn_main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
