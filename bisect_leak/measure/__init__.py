"""Measurement: one server under load, sampled (the trial); probe/ runs inside the target env."""
