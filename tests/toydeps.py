"""Test support: a toy framework whose leak comes from a dependency (for ``--culprit``).

``toyframe`` 1.0.0 requires ``toycore==1.0.0``; ``toyframe`` 1.1.0 requires
``toycore==2.0.0`` and ``toyextra==1.0.0``. ``toycore`` 2.0.0 keeps 4 KiB per request, so
the first bad ``toyframe`` is 1.1.0 and the culprit is the toycore change; toyextra is
innocent and appears only in 1.1.0 (it cannot be set back).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from toy import record_hash

_DATE = (2020, 1, 1, 0, 0, 0)

CORE_STABLE = '''
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    KEEP(scope)
    body = b"hello from toycore"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
'''

PACKAGES = {
    ("toycore", "1.0.0"): ("", "def KEEP(scope):\n    pass\n" + CORE_STABLE),
    # 4 KiB a request: over the short window the held median is ~10 MiB above the good env's
    ("toycore", "2.0.0"): ("", "_KEPT = []\n\ndef KEEP(scope):\n    _KEPT.append(bytearray(4096))\n"
                           + CORE_STABLE),
    ("toyextra", "1.0.0"): ("", "VALUE = 1\n"),
    ("toyframe", "1.0.0"): ("Requires-Dist: toycore==1.0.0\n", "from toycore import app\n"),
    ("toyframe", "1.1.0"): ("Requires-Dist: toycore==2.0.0\nRequires-Dist: toyextra==1.0.0\n",
                            "import toyextra\nfrom toycore import app\n"),
    # A leak fixed in 1.2.0 (for --fixed), and one that keeps a descriptor per request.
    ("toyfix", "1.0.0"): ("", "_KEPT = []\n\ndef KEEP(scope):\n    _KEPT.append(bytearray(1024))\n"
                          + CORE_STABLE),
    ("toyfix", "1.1.0"): ("", "_KEPT = []\n\ndef KEEP(scope):\n    _KEPT.append(bytearray(1024))\n"
                          + CORE_STABLE),
    ("toyfix", "1.2.0"): ("", "def KEEP(scope):\n    pass\n" + CORE_STABLE),
    ("toyfix", "1.3.0"): ("", "def KEEP(scope):\n    pass\n" + CORE_STABLE),
    ("toyfds", "1.0.0"): ("", "def KEEP(scope):\n    pass\n" + CORE_STABLE),
    ("toyfds", "2.0.0"): ("", "import os\n_FDS = []\n\ndef KEEP(scope):\n"
                          "    _FDS.append(os.open(os.devnull, os.O_RDONLY))\n" + CORE_STABLE),
}


def _write(dest: Path, name: str, version: str, requires: str, source: str) -> Path:
    info = f"{name}-{version}.dist-info"
    files = [
        (f"{name}/__init__.py", source.encode()),
        (f"{info}/METADATA", (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                              f"Requires-Python: >=3.7\n{requires}").encode()),
        (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: toydeps\nRoot-Is-Purelib: true\n"
                          b"Tag: py3-none-any\n"),
    ]
    record = [f"{n},{record_hash(d)},{len(d)}" for n, d in files] + [f"{info}/RECORD,,"]
    files.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    path = dest / f"{name}-{version}-py3-none-any.whl"
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for n, d in files:
            zi = zipfile.ZipInfo(n, date_time=_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, d)
    os.replace(tmp, path)
    return path


def build_dep_wheels(dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    return [_write(dest, n, v, r, s) for (n, v), (r, s) in PACKAGES.items()]


def write_frame_scenario(dest: Path, module: str = "toyframe") -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "app.py").write_text(f"from {module} import app  # noqa: F401\n")
    (dest / "scenario.toml").write_text(
        'description = "toyframe hello"\nrequirements = []\n\n[load]\nwarmup = 1000\n'
        "requests = 4000\nmax_requests = 16000\nconcurrency = 8\nsample_every = 250\n"
    )
    return dest
