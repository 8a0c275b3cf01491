"""The package version, in the lowest layer so every module may read it (cache keys, model cards)."""

__version__ = "0.1.0"
