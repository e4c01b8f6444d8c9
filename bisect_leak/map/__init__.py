"""The leak map: the same measurement over a grid of candidates, Pythons and scenarios."""
