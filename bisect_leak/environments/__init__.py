"""Environments: interpreters, isolated envs, wheels built from commits, and their cache."""
