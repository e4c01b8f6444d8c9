"""Search (pure: verdicts in, the next candidate and the answer out; no I/O)."""
