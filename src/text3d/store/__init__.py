"""The on-disk contract: atomic writes, asset folders, run folders, manifests and caches."""
