"""Candidates: releases from an index or wheelhouse, commits and the working tree from a repo."""
