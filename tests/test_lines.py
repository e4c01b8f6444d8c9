"""The line answer's pure core (bisect_leak/lines.py): hunks, paths, the intersection."""

from __future__ import annotations

from bisect_leak.candidates import lines
from bisect_leak.candidates.lines import Hunk, Via

DIFF = """\
diff --git a/src/pkg/app.py b/src/pkg/app.py
index 1111111..2222222 100644
--- a/src/pkg/app.py
+++ b/src/pkg/app.py
@@ -3,0 +4 @@ import os
+import sys
@@ -10,2 +11,3 @@ def handle(request):
-    return None
-    # old
+    keep(request)
+    log(request)
+    return None
@@ -20 +22,0 @@ def gone():
-    pass
\\ No newline at end of file
diff --git a/src/pkg/new.py b/src/pkg/new.py
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/src/pkg/new.py
@@ -0,0 +1,2 @@
+KEPT = []
+--x = 1
diff --git a/src/pkg/old.py b/src/pkg/old.py
deleted file mode 100644
--- a/src/pkg/old.py
+++ /dev/null
@@ -1 +0,0 @@
-CACHE = {}
diff --git a/src/pkg/a.py b/src/pkg/b.py
similarity index 90%
rename from src/pkg/a.py
rename to src/pkg/b.py
--- a/src/pkg/a.py
+++ b/src/pkg/b.py
@@ -5 +5 @@
-x = 1
+x = 2
diff --git "a/src/pkg/caf\\303\\251 \\"q\\".py" "b/src/pkg/caf\\303\\251 \\"q\\".py"
--- "a/src/pkg/caf\\303\\251 \\"q\\".py"
+++ "b/src/pkg/caf\\303\\251 \\"q\\".py"
@@ -1 +1 @@
-a
+b
"""


def test_hunks_of_git_diff_u0_new_and_old_sides() -> None:
    hunks = lines.parse_diff(DIFF)
    assert hunks[0] == Hunk("src/pkg/app.py", "src/pkg/app.py", 3, (), 4, ("import sys",))
    assert hunks[1].old_start == 10 and hunks[1].old_lines == ("    return None", "    # old")
    assert hunks[1].new_start == 11 and len(hunks[1].new_lines) == 3
    assert hunks[2].new_lines == () and hunks[2].old_lines == ("    pass",)  # no "\ No newline"
    new = lines.changed_lines(hunks)
    assert new[("src/pkg/app.py", 4)] == "import sys"
    assert [new[("src/pkg/app.py", n)] for n in (11, 12, 13)] == [
        "keep(request)", "log(request)", "return None"]
    assert ("src/pkg/app.py", 22) not in new  # a deletion has no new-side line
    assert new[("src/pkg/new.py", 2)] == "--x = 1"  # a line that looks like a header
    assert not any(path == "src/pkg/old.py" for path, _ in new)  # deleted: old side only
    assert new[("src/pkg/b.py", 5)] == "x = 2"  # a rename: the new name, changed lines only
    assert new[("src/pkg/café \"q\".py", 1)] == "b"  # git's C-quoted names
    old = lines.changed_lines(hunks, old_side=True)
    assert old[("src/pkg/app.py", 10)] == "return None" and ("src/pkg/app.py", 11) in old
    assert old[("src/pkg/app.py", 20)] == "pass" and old[("src/pkg/old.py", 1)] == "CACHE = {}"
    assert old[("src/pkg/a.py", 5)] == "x = 1"
    assert not any(path == "src/pkg/new.py" for path, _ in old)


def test_two_trees_diffed_with_git_line_numbers() -> None:
    before = {"pkg/app.py": "import os\ndef f():\n    return 1\n", "pkg/gone.py": "X = 1\n"}
    after = {"pkg/app.py": "import os\nimport sys\ndef f():\n    return 2\n",
             "pkg/added.py": "Y = 2\n"}
    hunks = lines.diff_texts(before, after)
    new = lines.changed_lines(hunks)
    assert new == {("pkg/app.py", 2): "import sys", ("pkg/app.py", 4): "return 2",
                   ("pkg/added.py", 1): "Y = 2"}
    old = lines.changed_lines(hunks, old_side=True)
    assert old == {("pkg/app.py", 3): "return 1", ("pkg/gone.py", 1): "X = 1"}
    # an insertion's new side starts where git puts it; its old side is the line before
    insert = [h for h in hunks if h.old_lines == () and h.new_path == "pkg/app.py"][0]
    assert (insert.old_start, insert.new_start) == (1, 2)


def test_a_fix_that_only_inserts_lines_says_where() -> None:
    before = {"pkg/conn.py": "def lost(self):\n    self.queue = None\n"}
    after = {"pkg/conn.py": "def lost(self):\n    self.transport.close()\n"
                            "    self.transport = None\n    self.queue = None\n"}
    hunks = lines.diff_texts(before, after)
    assert lines.changed_lines(hunks, old_side=True) == {}
    note = lines.insertions_note(hunks)
    assert note.startswith("the fix only inserts lines")
    assert "pkg/conn.py:2 'self.transport.close()' (+1 lines)" in note
    rewrite = lines.diff_texts(before, {"pkg/conn.py": "def lost(self):\n    pass\n"})
    assert lines.insertions_note(rewrite) == ""  # the old side changed: lines to match


def test_installed_paths_back_to_the_repository() -> None:
    purelib = "/c/envs/k/lib/python3.12/site-packages"
    rel = lines.installed_relative(f"{purelib}/uvicorn/protocols/http/h11_impl.py", [purelib])
    assert rel == "uvicorn/protocols/http/h11_impl.py"
    assert lines.repo_path(rel, ["uvicorn/"]) == rel
    assert lines.repo_path(rel, ["src/uvicorn/"]) == "src/uvicorn/protocols/http/h11_impl.py"
    assert lines.repo_path("six.py", ["src/six.py"]) == "src/six.py"
    assert lines.repo_path("h11/_connection.py", ["uvicorn/"]) is None  # another distribution
    # no package folder known: a changed repository path that ends with the installed one
    assert lines.repo_path("pkg/a.py", [], ["lib/pkg/a.py", "tests/a.py"]) == "lib/pkg/a.py"
    # another prefix than the env reported, the stdlib
    assert lines.installed_relative("/x/site-packages/pkg/a.py", [purelib]) == "pkg/a.py"
    assert lines.installed_relative("/usr/lib/python3.12/asyncio/streams.py", [purelib]) is None
    assert lines.display_path("/usr/lib/python3.12/asyncio/streams.py", [purelib],
                              ["/usr/lib/python3.12"]) == "<stdlib>/asyncio/streams.py"
    assert lines.display_path(f"{purelib}/h11/_state.py", [purelib]) == "h11/_state.py"


PURE = "/env/lib/python3.12/site-packages"


def _inspection(sites: list, stacks: dict, files: list, window: int = 2000) -> dict:
    return {"sites": sites, "stacks": stacks, "files": files, "window": window,
            "paths": {"purelib": PURE, "platlib": PURE}}


def test_the_changed_call_to_an_unchanged_helper_is_named_via() -> None:
    app, helper = f"{PURE}/pkg/app.py", f"{PURE}/pkg/helpers.py"
    loop = "/usr/lib/python3.12/asyncio/events.py"
    found = _inspection(
        [[f"{helper}:5", 2_048_000, 2000, "_KEPT.append(bytearray(1024))"],
         [f"{loop}:80", 4_000, 10, "self._callback(*self._args)"]],
        {f"{helper}:5": [[2_048_000, [[0, 5], [1, 31], [2, 80]]]]},
        [helper, app, loop])
    changed = {("src/pkg/app.py", 31): "keep(request)"}
    rows = lines.intersect(found, changed, ["src/pkg/"])
    assert len(rows) == 1  # the loop's 4 KiB is under the floor
    row = rows[0]
    assert (row.path, row.line, row.in_diff) == ("src/pkg/helpers.py", 5, False)
    assert row.via == Via("src/pkg/app.py", 31, "keep(request)") and row.kib == 2000.0
    assert row.as_dict()["via"] == {"path": "src/pkg/app.py", "line": 31,
                                    "code": "keep(request)"}
    text = lines.render(lines.LineAnswer(tuple(rows), "git diff a b"))
    assert text[0].startswith("changed lines that call what allocates")
    assert "src/pkg/app.py:31  keep(request)  +2,000.0 KiB  -> src/pkg/helpers.py:5" in text[1]
    assert not any("changed lines that allocate what grows" in t for t in text)


def test_an_allocation_in_the_diff_and_growth_the_diff_did_not_touch() -> None:
    app, h11 = f"{PURE}/pkg/app.py", f"{PURE}/h11/_state.py"
    found = _inspection(
        [[f"{app}:12", 1_000_000, 1000, "_LEAK.append(bytearray(1024))"],
         [f"{h11}:40", 100_000, 500, "self.states = {}"]],
        {f"{app}:12": [[1_000_000, [[0, 12], [1, 3]]]],
         f"{h11}:40": [[60_000, [[2, 40], [0, 30]]], [40_000, [[2, 40], [0, 50]]]]},
        [app, "/usr/lib/python3.12/asyncio/events.py", h11])
    changed = {("pkg/app.py", 12): "_LEAK.append(bytearray(1024))", ("pkg/app.py", 50): "go()"}
    rows = lines.intersect(found, changed, ["pkg/"])
    assert [(r.path, r.line, r.in_diff) for r in rows] == [
        ("pkg/app.py", 12, True), ("h11/_state.py", 40, False), ("h11/_state.py", 40, False)]
    assert rows[1].via == Via("pkg/app.py", 50, "go()") and rows[1].kib == round(40_000 / 1024, 1)
    assert rows[2].via is None and rows[2].kib == round(60_000 / 1024, 1)  # untouched stack
    text = lines.render(lines.LineAnswer(tuple(rows), "git diff a b"))
    assert text[0] == "changed lines that allocate what grows:"
    assert text[1] == "  pkg/app.py:12  _LEAK.append(bytearray(1024))  +976.6 KiB"
    assert "also growing, in code the commit did not touch:" in text
    # nothing on the stack changed: said plainly
    alone = lines.intersect(found, {("pkg/other.py", 1): "x"}, ["pkg/"])
    assert all(not r.changed for r in alone)
    said = lines.render(lines.LineAnswer(tuple(alone), "git diff a b", frames=8))
    assert said[0].startswith("the growth comes from code the commit did not touch (no "
                              "changed line among the 8 innermost frames")


def test_what_the_reference_run_holds_too_is_not_growth() -> None:
    app = f"{PURE}/pkg/app.py"
    grow = _inspection([[f"{app}:12", 300_000, 10, "buf = bytearray(n)"],
                        [f"{app}:20", 900_000, 10, "_LEAK.append(x)"]], {}, [])
    ref = _inspection([[f"{app}:11", 250_000, 10, "buf = bytearray(n)"]], {}, [])
    changed = {("pkg/app.py", 12): "buf = bytearray(n)", ("pkg/app.py", 20): "_LEAK.append(x)"}
    rows = lines.intersect(grow, changed, ["pkg/"], reference=ref)
    assert [(r.line, r.in_diff) for r in rows] == [(20, True)]
    # a one-frame answer (an older launcher): the allocating line alone, no stacks
    legacy = lines.intersect(grow, {("pkg/app.py", 99): "x"}, ["pkg/"])
    assert [r.via for r in legacy] == [None, None]


def test_nothing_grows_says_why() -> None:
    answer = lines.LineAnswer((), "git diff a b", "no allocation site holds 8 bytes")
    assert lines.render(answer) == ["line answer (git diff a b): no allocation site holds 8 bytes"]
    assert answer.json_fields() == {"lines": [], "lines_against": "git diff a b",
                                    "lines_note": "no allocation site holds 8 bytes",
                                    "lines_frames": 1}


def test_record_lists_the_installed_sources() -> None:
    record = ('pkg/__init__.py,sha256=x,10\n"pkg/a,b.py",sha256=y,3\n'
              "pkg-1.0.dist-info/RECORD,,\n../../bin/pkg,sha256=z,1\npkg/data.json,,\n")
    assert lines.record_sources(record) == ["pkg/__init__.py", "pkg/a,b.py"]
