"""One module per registered feature extractor (see :mod:`text3d.encoders.base`)."""
