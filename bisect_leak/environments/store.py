"""The cache: envs and trial results under one folder, indexed in SQLite.

As pre-commit's store does: everything is built in a temp dir beside its target and renamed
into place, the index is written last, and a file lock per key makes two runs sharing the
cache build each env once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bisect_leak.environments import env as envs
from bisect_leak.errors import BadInput

SCHEMA = """
CREATE TABLE IF NOT EXISTS envs (
    key TEXT PRIMARY KEY, python TEXT, requirements TEXT, installer TEXT,
    freeze TEXT, created REAL, last_used REAL, build_seconds REAL, size_bytes INTEGER
);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, env_key TEXT, label TEXT, created REAL
);
"""


@dataclass(frozen=True)
class Entry:
    kind: str  # "env" or "result"
    key: str
    label: str
    size_bytes: int
    last_used: float


class Store:
    """A cache folder. ``results=False`` (``--no-cache``) neither reads nor writes results."""

    def __init__(self, root: Path, *, results: bool = True):
        self.root = Path(root).absolute()  # env paths must survive the server's other cwd
        self.use_results = results
        self.envs_dir = self.root / "envs"
        self.results_dir = self.root / "results"
        self.locks_dir = self.root / "locks"

    def open(self) -> Store:
        """Create the folders; BadInput when the cache dir cannot be written."""
        try:
            for d in (self.envs_dir, self.results_dir, self.locks_dir):
                d.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
                pass
            with self._db() as db:
                db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise BadInput(
                f"cache dir {self.root} is not writable ({exc.__class__.__name__}); "
                "pass a writable --cache-dir"
            ) from None
        return self

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.root / "index.sqlite", timeout=60)
        try:
            with db:
                yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def lock(self, key: str, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        with open(self.locks_dir / f"{key}.lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait:
                    on_wait()
                fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- envs -------------------------------------------------------------------------

    def env(
        self,
        spec: envs.EnvSpec,
        *,
        on_build: Callable[[], None] | None = None,
        on_wait: Callable[[], None] | None = None,
        nice: int = 0,
    ) -> envs.Env:
        """The cached env for ``spec``, built (once, under its lock) when missing."""
        key = spec.key
        target = self.envs_dir / key
        with self.lock(key, on_wait):
            with self._db() as db:
                row = db.execute(
                    "SELECT freeze, installer, build_seconds FROM envs WHERE key = ?", (key,)
                ).fetchone()
            if row and (target / "bin" / "python").exists():
                with self._db() as db:
                    db.execute("UPDATE envs SET last_used = ? WHERE key = ?", (time.time(), key))
                return envs.Env(key, target, tuple(json.loads(row[0])), row[1], row[2])
            self._remove_stale(key)
            if on_build:
                on_build()
            start = time.monotonic()
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=self.envs_dir))
            try:
                freeze, installer = envs.build(spec, tmp / "env", nice=nice)
                (tmp / "env" / "bisect-leak-env.json").write_text(
                    json.dumps({"spec": spec.__dict__, "freeze": freeze}, indent=1, default=str)
                )
                if target.exists():
                    shutil.rmtree(target)
                os.rename(tmp / "env", target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            seconds = time.monotonic() - start
            with self._db() as db:  # the index row is the "done" mark: written last
                db.execute(
                    "INSERT OR REPLACE INTO envs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (key, spec.python_version, " ".join(spec.requirements), installer,
                     json.dumps(freeze), time.time(), time.time(), seconds, _size(target)),
                )
            return envs.Env(key, target, freeze, installer, seconds)

    def _remove_stale(self, key: str) -> None:
        """Temp dirs of this key left by a killed run (we hold the key's lock)."""
        for stale in self.envs_dir.glob(f".tmp-{key}-*"):
            shutil.rmtree(stale, ignore_errors=True)

    # -- results ----------------------------------------------------------------------

    def result(self, key: str) -> dict | None:
        if not self.use_results:
            return None
        path = self.results_dir / f"{key}.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def put_result(self, key: str, env_key: str, label: str, data: dict) -> None:
        if not self.use_results:
            return
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{key}-", dir=self.results_dir)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.results_dir / f"{key}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
                (key, env_key, label, time.time()),
            )

    # -- inspection and cleaning ------------------------------------------------------

    def entries(self) -> list[Entry]:
        with self._db() as db:
            env_rows = db.execute(
                "SELECT key, python, requirements, size_bytes, last_used FROM envs"
            ).fetchall()
            result_rows = db.execute("SELECT key, label, created FROM results").fetchall()
        out = [
            Entry("env", k, f"Python {py}: {reqs}", size or 0, used)
            for k, py, reqs, size, used in env_rows
        ]
        for k, label, created in result_rows:
            path = self.results_dir / f"{k}.json"
            size = path.stat().st_size if path.exists() else 0
            out.append(Entry("result", k, label, size, created))
        return sorted(out, key=lambda e: e.last_used)

    def clean(self, keep_bytes: int = 0) -> list[Entry]:
        """Free envs, oldest used first, until at most ``keep_bytes`` of envs remain."""
        env_entries = [e for e in self.entries() if e.kind == "env"]
        total = sum(e.size_bytes for e in env_entries)
        removed = []
        for entry in env_entries:
            if total <= keep_bytes:
                break
            with self.lock(entry.key):
                with self._db() as db:  # unmark first: a half-removed env is never "done"
                    db.execute("DELETE FROM envs WHERE key = ?", (entry.key,))
                shutil.rmtree(self.envs_dir / entry.key, ignore_errors=True)
            total -= entry.size_bytes
            removed.append(entry)
        if keep_bytes == 0:
            with self._db() as db:
                db.execute("DELETE FROM results")
            for path in self.results_dir.glob("*.json"):
                path.unlink(missing_ok=True)
        return removed


def _size(path: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total
