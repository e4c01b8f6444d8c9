"""bisect-leak: find the release in which a Python web stack started (or stopped) leaking."""

__version__ = "0.1.0"
