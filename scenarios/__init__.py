"""The built-in scenarios, shipped as package data of ``bisect_leak.scenarios``.

Each folder here is one scenario (``app.py`` and ``scenario.toml``); the wheel and the sdist
carry them, and ``bisect_leak.scenario`` finds them with ``importlib.resources``.
"""
