"""Runs: the augment → generate → export → render pipeline, single and batched."""
