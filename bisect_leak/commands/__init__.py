"""The command line: parse, make one call, map the outcome to an exit code."""
