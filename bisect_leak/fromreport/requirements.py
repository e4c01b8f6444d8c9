"""Requirements from a module's imports: import name -> distribution on PyPI."""

from __future__ import annotations

import ast
import sys

#: import names whose distribution is named otherwise (or that need an extra one)
DISTRIBUTIONS = {
    "multipart": "python-multipart", "python_multipart": "python-multipart",
    "sse_starlette": "sse-starlette", "yaml": "PyYAML", "jinja2": "Jinja2", "PIL": "Pillow",
    "sklearn": "scikit-learn", "cv2": "opencv-python", "dotenv": "python-dotenv",
    "jose": "python-jose", "jwt": "PyJWT", "bs4": "beautifulsoup4",
    "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient", "sentence_transformers":
    "sentence-transformers", "google": "", "pydantic_settings": "pydantic-settings",
    "starlite": "starlite", "litestar": "litestar", "attr": "attrs", "dateutil":
    "python-dateutil", "magic": "python-magic", "socketio": "python-socketio",
}
#: never a requirement: the server is added by bisect-leak, these ship with Python
_SKIP = {"uvicorn", "__future__", "typing_extensions"}
#: names whose use needs python-multipart in FastAPI / Starlette
_MULTIPART_USES = {"UploadFile", "File", "Form"}


def from_imports(tree: ast.Module) -> tuple[list[str], list[str]]:
    """(requirements, notes): third-party distributions the module imports, in order."""
    stdlib = set(getattr(sys, "stdlib_module_names", ()))
    found: list[str] = []
    notes: list[str] = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            mods = [node.module]
            names |= {a.name for a in node.names}
        else:
            continue
        for mod in mods:
            top = mod.split(".")[0]
            if top in stdlib or top in _SKIP:
                continue
            dist = DISTRIBUTIONS.get(top, top)
            if top == "google" and mod.startswith("google.cloud."):
                dist = "google-cloud-" + mod.split(".")[2]
            if dist and dist not in found:
                found.append(dist)
                if dist != top:
                    notes.append(f"import {top} -> requirement {dist}")
    if names & _MULTIPART_USES and ("fastapi" in found or "starlette" in found) \
            and "python-multipart" not in found:
        found.append("python-multipart")
        notes.append("uploads or forms (" + ", ".join(sorted(names & _MULTIPART_USES))
                     + ") need python-multipart")
    return found, notes
