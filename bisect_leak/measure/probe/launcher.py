"""Run uvicorn in-process with a side channel for "what grows" (stdlib only, Python 3.7+).

Run by path inside the target env; never imports bisect_leak. Usage:

    python launcher.py --control-port N APP --host 127.0.0.1 --port M [uvicorn options]

The side channel is a loopback TCP socket that takes one command per connection and answers
one JSON line: ``baseline`` (collect garbage, count objects by type, start tracemalloc) or
``diff`` (snapshot what was allocated since the baseline and is still alive, count again,
report the top growers). It never touches the app's routes.

Nothing is collected on the control thread: walking ``gc.get_objects()`` there while the
event loop runs in the main thread crashed CPython 3.12 (a fatal error, SIGABRT). The work
runs as a callback of the server's own event loop, between two steps of its tasks, where no
coroutine is half-way through a bytecode. The loop is found once by a signal whose handler
runs in the main thread.
"""

import collections
import gc
import json
import linecache
import os
import signal
import socket
import sys
import sysconfig
import threading
import tracemalloc

TOP = 15
# Frames kept per allocation: enough to reach the package's own code from the allocating
# line. On uvicorn 0.14.0's leak the changed calls sat 1-3 frames above the allocation (and
# whole stacks were 9-15 deep); every frame makes each traced allocation dearer, about
# linearly: the toy's 2,000-request window took 6 s with 1 frame, 14 s with 4, 25 s with
# 8, 41 s with 12 and 70-90 s with 25 (3.12, machine loaded). BISECT_LEAK_TRACEMALLOC_FRAMES
# (set from --inspect-frames) changes it.
FRAMES = int(os.environ.get("BISECT_LEAK_TRACEMALLOC_FRAMES", "8"))
STACKS = 3  # heaviest distinct stacks reported per growing site
TIMEOUT = 60.0  # seconds the main thread gets to run a collection
WAKE = signal.SIGUSR2
_state = {}


def _cell_type():
    x = 0
    return type((lambda: x).__closure__[0])


# Containers whose referents are safe to ask for. gc.get_referents() on some C objects is
# not: on CPython 3.12.1 asking a module for its referents (its C state's traverse) left the
# next gc.collect() looping forever; the SIGABRT was the same walk.
SAFE = (list, tuple, dict, set, frozenset, _cell_type(), object, collections.deque,
        collections.OrderedDict, collections.defaultdict)
HEAPTYPE = 1 << 9
_walkable = {}


def walkable(tp):
    """Whether an object of this type may be asked for its referents: a built-in container,
    or a class defined in Python (in a ``.py`` module) over such containers."""
    known = _walkable.get(tp)
    if known is None:
        known = True
        for base in tp.__mro__:
            if base in SAFE or base.__module__ == "builtins" and issubclass(base, BaseException):
                continue
            module = sys.modules.get(getattr(base, "__module__", ""), None)
            source = getattr(module, "__file__", None) or ""
            if not base.__flags__ & HEAPTYPE or not source.endswith(".py"):
                known = False
                break
        _walkable[tp] = known
    return known


def count_types():
    """Objects by type name: gc-tracked objects and the untracked ones (bytes, bytearray,
    str, numbers) that walkable containers refer to."""
    counts = {}
    seen = set()
    tracked = gc.get_objects()
    for obj in tracked:
        seen.add(id(obj))
        name = type(obj).__name__
        counts[name] = counts.get(name, 0) + 1
    for obj in tracked:
        if not walkable(type(obj)):
            continue
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
    """Counts by type now; from here on tracemalloc records who allocates what stays."""
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    gc.collect()
    _state["types"] = count_types()
    if os.environ.get("BISECT_LEAK_TRACEMALLOC", "1") == "1":
        tracemalloc.start(FRAMES)
    return {"ok": True, "objects": sum(_state["types"].values()), "frames": FRAMES}


def diff():
    if "types" not in _state:
        return {"ok": False, "error": "no baseline"}
    gc.collect()
    sites = _sites()  # before counting: neither the snapshot nor the counts count themselves
    now = count_types()
    before = _state["types"]
    growth = sorted(
        ((name, now.get(name, 0) - before.get(name, 0)) for name in set(now) | set(before)),
        key=lambda item: -item[1],
    )
    types = [[name, delta, now.get(name, 0)] for name, delta in growth[:TOP] if delta > 0]
    answer = {"ok": True, "types": types, "sites": _with_code(sites[0]),
              "gc_counts": list(gc.get_count()), "frames": FRAMES,
              "paths": {k: sysconfig.get_paths().get(k) for k in ("purelib", "platlib",
                                                                 "stdlib", "platstdlib")}}
    answer.update(stacks=sites[1], files=sites[2])
    return answer


def _sites():
    """The top lines by memory allocated since the baseline and still alive:
    ``[file:line, bytes, blocks]`` each; per line its heaviest stacks,
    ``{file:line: [[bytes, [[file index, line], ...innermost first]], ...]}``; the files."""
    snap = _snapshot()
    tracemalloc.stop()
    if snap is None:
        return [], {}, []
    sites = []
    for stat in snap.statistics("lineno")[:TOP]:
        frame = stat.traceback[0]
        sites.append([f"{frame.filename}:{frame.lineno}", stat.size, stat.count])
    return (sites,) + _stacks(snap, set(site[0] for site in sites))


def _stacks(snap, keys):
    """The heaviest stacks that end at each of ``keys`` (a Traceback runs oldest first)."""
    files = {}
    stacks = {}
    for stat in snap.statistics("traceback"):
        top = stat.traceback[-1]
        key = f"{top.filename}:{top.lineno}"
        if key not in keys or len(stacks.get(key, ())) >= STACKS:
            continue
        frames = [[files.setdefault(f.filename, len(files)), f.lineno]
                  for f in reversed(stat.traceback)]
        stacks.setdefault(key, []).append([stat.size, frames])
    names = sorted(files, key=files.get)
    return stacks, names


def _with_code(sites):
    """Each site with its line of code (read after counting: linecache keeps what it reads)."""
    for site in sites:
        filename, _, lineno = site[0].rpartition(":")
        site.append(linecache.getline(filename, int(lineno)).strip())
    return sites


COMMANDS = {"baseline": baseline, "diff": diff}


def _on_wake(signum, frame):
    """Runs in the main thread: remember the event loop running there."""
    try:
        import asyncio

        _state["loop"] = asyncio.events._get_running_loop()
    except Exception:
        _state["loop"] = None
    _state["woken"].set()


def _server_loop():
    loop = _state.get("loop")
    if loop is not None and not loop.is_closed():
        return loop
    _state["woken"] = threading.Event()
    signal.pthread_kill(threading.main_thread().ident, WAKE)
    if not _state["woken"].wait(TIMEOUT):
        raise RuntimeError("the server's main thread did not answer the wake-up signal")
    if _state.get("loop") is None:
        raise RuntimeError("no event loop is running in the server's main thread")
    return _state["loop"]


def on_event_loop(func):
    """``func()`` run as a callback of the server's event loop; its answer, or its error."""
    box = {}
    done = threading.Event()

    def call():
        try:
            box["answer"] = func()
        except Exception as exc:
            box["answer"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        finally:
            done.set()

    _server_loop().call_soon_threadsafe(call)
    if not done.wait(TIMEOUT):
        raise RuntimeError(f"the event loop did not run the collection within {TIMEOUT:g} s")
    return box["answer"]


def serve_control(sock):
    while True:
        conn, _ = sock.accept()
        try:
            command = conn.makefile("r").readline().strip()
            if command in COMMANDS:
                answer = on_event_loop(COMMANDS[command])
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
    signal.signal(WAKE, _on_wake)
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
