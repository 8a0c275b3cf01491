"""``text3d info``: versions, renderer backend, compute device and the registered backends."""

from __future__ import annotations

import importlib.metadata
import platform

import typer

from text3d.device import describe_device
from text3d.render.renderer import Renderer
from text3d.version import __version__


def info_command() -> None:
    """Print package versions, the renderer backend, the compute device and the backends by name."""
    lines = [f"text3d {__version__}", f"python {platform.python_version()} ({platform.machine()})"]
    for package in ("torch", "numpy", "scipy", "trimesh", "moderngl", "transformers", "safetensors"):
        try:
            lines.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            lines.append(f"{package} not installed")
    try:
        lines.append(f"renderer: {Renderer.shared().backend_name}, {Renderer.shared().samples}x MSAA")
    except Exception as exc:  # report, don't fail: info is the diagnosis command
        lines.append(f"renderer: unavailable ({exc})")
    lines.append(f"compute device: {describe_device()}")
    from text3d.eval.evaluators.base import evaluators
    from text3d.generators.base import generators
    from text3d.prompts.base import augmenters

    for label, registry in (("generators (--backend)", generators), ("augmenters (--augment, --llm)", augmenters),
                            ("evaluators (--evaluator)", evaluators)):
        lines.append(f"{label}: {', '.join(registry.names())}")
    for line in lines:
        typer.echo(line)


def register(app: typer.Typer) -> None:
    app.command("info")(info_command)
