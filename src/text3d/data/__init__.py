"""Data sets: toyworld (procedural, captioned 3D objects) and loaders for real data sets."""
