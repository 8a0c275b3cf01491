"""text3d: an automatic text-to-3D asset pipeline with offline embedded models."""

from text3d.version import __version__

__all__ = ["__version__", "generate"]


def generate(prompt: str, **kwargs):  # noqa: ANN201 - returns text3d.runs.pipeline.GenerationResult
    """Generate one asset from ``prompt``; see :func:`text3d.runs.pipeline.generate`."""
    from text3d.runs.pipeline import generate as _generate

    return _generate(prompt, **kwargs)
