"""What changed between two envs' ``pip freeze``: pure."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import canonicalize_name


@dataclass(frozen=True)
class Change:
    name: str
    before: str | None  # None: appeared
    after: str | None  # None: went

    def __str__(self) -> str:
        if self.before is None:
            return f"{self.name} {self.after} (added)"
        if self.after is None:
            return f"{self.name} {self.before} (removed)"
        return f"{self.name} {self.before} → {self.after}"

    def as_dict(self) -> dict:
        return {"name": self.name, "before": self.before, "after": self.after}


def parse(lines: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``name==version`` lines (and ``name @ url``) into {canonical name: version}."""
    out = {}
    for line in lines:
        line = line.strip()
        if "==" in line:
            name, _, version = line.partition("==")
        elif " @ " in line:
            name, _, version = line.partition(" @ ")
        else:
            continue
        out[canonicalize_name(name.split("[")[0])] = version.strip()
    return out


def diff(before: list[str] | tuple[str, ...], after: list[str] | tuple[str, ...]) -> list[Change]:
    """Packages whose version changed, appeared or went; sorted by name."""
    a, b = parse(before), parse(after)
    changes = []
    for name in sorted(set(a) | set(b)):
        if a.get(name) != b.get(name):
            changes.append(Change(name, a.get(name), b.get(name)))
    return changes
