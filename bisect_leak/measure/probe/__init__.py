"""Scripts run by path inside target envs (stdlib only, Python 3.7-3.13)."""
