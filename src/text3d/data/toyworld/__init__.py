"""toyworld: a procedural, captioned 3D reference dataset (see vocabulary, categories, builder)."""
