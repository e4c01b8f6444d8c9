"""Judgement (pure: samples in, verdicts out; no I/O): the verdict rule and its statistics."""
