"""Hostile and broken credential files, generated at test time (see corpus.py)."""
