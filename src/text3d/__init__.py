"""text3d: an automatic text-to-3D asset pipeline with offline embedded models."""

__version__ = "0.1.0"
