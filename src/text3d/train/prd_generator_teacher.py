"""A 3D generator's renders as a multi-view teacher: Table 4's third signal of the TriplaneTurbo study.

TriplaneTurbo (Ma et al., 2025) supervises its renders with 2D diffusion teachers only. This teacher
asks what a 3D generator would give instead: for each prompt it generates one asset with a text3d
backend (the multi-step embedded generator by default; seed fixed, the asset cached per prompt) and
renders it from the very cameras of the student's views, in the embedded teacher's view space
(:func:`text3d.train.mvdiffusion_data.encode_views`: RGB on white, normal, depth; 2×2 supersampled).
Its "denoised estimate" is that render whatever the noise: a teacher that is certain, so score
distillation becomes regression onto the generator's views. The student still adapts the embedded
teacher's backbone (``model``, ``text_encoder`` are the base teacher's).

Generating is what costs (≈ 1 s an asset on one core against ≈ 2 ms for its 4 renders), so with an
``asset_folder`` each asset is kept on disk (one ``.npz`` a prompt, written atomically: a resumed run
generates nothing twice), and :meth:`GeneratorRendersTeacher.prepare` generates a prompt set's
assets up front in worker processes.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from text3d.assets.asset import Asset
from text3d.nn.teachers.embedded import EmbeddedMVTeacher
from text3d.render.cameras import Camera
from text3d.store.atomic import write_atomic

CACHED_ASSETS = 512
"""Assets kept in memory (least recently used first out); each is a few thousand faces."""


def asset_file(folder: str | Path, backend: str, seed: int, prompt: str) -> Path:
    """Where the teacher keeps the asset of (backend, seed, prompt): ``folder/<sha256 prefix>.npz``."""
    key = hashlib.sha256(f"{backend}\n{seed}\n{prompt}".encode()).hexdigest()[:24]
    return Path(folder) / f"{key}.npz"


def save_asset(path: Path, asset: Asset, prompt: str) -> None:
    """The mesh arrays of ``asset`` (vertices, faces, colors, normals, roughness) and its prompt, atomically."""
    arrays = {"vertices": asset.vertices, "faces": asset.faces, "prompt": np.array(prompt),
              "material": np.array([asset.roughness, asset.metallic], np.float32)}
    for name in ("vertex_colors", "vertex_normals", "vertex_roughness"):
        if getattr(asset, name) is not None:
            arrays[name] = getattr(asset, name)
    write_atomic(path, lambda f: np.savez(f, **arrays))


def load_asset(path: Path, prompt: str) -> Asset | None:
    """The asset :func:`save_asset` wrote for ``prompt``; None when the file holds another prompt's
    (a hash collision) or cannot be read (then it is generated again)."""
    try:
        with np.load(path) as data:
            if str(data["prompt"]) != prompt:
                return None
            optional = {k: data[k] for k in ("vertex_colors", "vertex_normals", "vertex_roughness") if k in data}
            roughness, metallic = (float(v) for v in data["material"])
            return Asset(data["vertices"], data["faces"], roughness=roughness, metallic=metallic, **optional)
    except (OSError, ValueError, KeyError):
        return None


_WORKER_GENERATORS: dict[str, Any] = {}


def generate_to_file(job: tuple[str, int, str, str]) -> str:
    """Worker job (backend, seed, prompt, path): generate the prompt's asset and save it; the
    backend is loaded once per process."""
    from text3d.generators.base import Condition, create_generator

    backend, seed, prompt, path = job
    if backend not in _WORKER_GENERATORS:
        _WORKER_GENERATORS[backend] = create_generator(backend)
    save_asset(Path(path), _WORKER_GENERATORS[backend].generate(Condition(prompt=prompt), seed=seed).asset, prompt)
    return path


def camera_from_c2w(c2w: np.ndarray, resolution: int) -> Camera:
    """The look-at-origin :class:`Camera` whose ``c2w()`` is ``c2w`` (4, 4): radius |p|,
    pitch asin(p_z / r), yaw atan2(p_x, p_y) of its position p (degrees)."""
    p = np.asarray(c2w, dtype=np.float64)[:3, 3]
    radius = float(np.linalg.norm(p))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, p[2] / radius))))
    yaw = math.degrees(math.atan2(p[0], p[1]))
    return Camera(yaw=yaw, pitch=pitch, radius=radius, resolution=resolution)


class GeneratorRendersTeacher:
    """Teacher interface (:class:`~text3d.nn.teachers.base.Teacher`) over a 3D generator's renders."""

    name = "generator-renders"

    def __init__(self, base: EmbeddedMVTeacher, backend: str = "embedded", seed: int = 0,
                 generator: Any = None, asset_folder: str | Path | None = None) -> None:
        if base.channels != 7:
            from text3d.errors import InputError

            raise InputError(f"teacher {base.name}: the generator's renders are RGB + normal + depth (7 channels); "
                             f"this teacher takes {base.channels}")
        self.base = base
        self.model = base.model
        self.text_encoder = base.text_encoder
        self.views, self.channels = base.views, base.channels
        self.backend, self.seed = backend, seed
        self._generator = generator
        self.asset_folder = None if asset_folder is None else Path(asset_folder)
        self._assets: OrderedDict[str, Any] = OrderedDict()

    def _file(self, prompt: str) -> Path | None:
        return None if self.asset_folder is None else asset_file(self.asset_folder, self.backend, self.seed, prompt)

    def prepare(self, prompts: Sequence[str], workers: int = 0, progress: bool | None = None) -> int:
        """Generate the assets of ``prompts`` not yet in ``asset_folder``, in ``workers`` processes (0 = one
        per core, one thread each); returns how many were generated."""
        from text3d.train.pool import map_in_workers

        if self.asset_folder is None:
            return 0
        self.asset_folder.mkdir(parents=True, exist_ok=True)
        todo = [p for p in dict.fromkeys(prompts) if load_asset(self._file(p), p) is None]
        jobs = [(self.backend, self.seed, p, str(self._file(p))) for p in todo]
        map_in_workers(generate_to_file, jobs, "teacher assets", workers, progress)
        return len(jobs)

    def _asset(self, prompt: str) -> Any:
        from text3d.generators.base import Condition, create_generator

        if prompt in self._assets:
            self._assets.move_to_end(prompt)
            return self._assets[prompt]
        path = self._file(prompt)
        asset = None if path is None or not path.is_file() else load_asset(path, prompt)
        if asset is None:
            if self._generator is None:
                self._generator = create_generator(self.backend)
            asset = self._generator.generate(Condition(prompt=prompt), seed=self.seed).asset
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                save_asset(path, asset, prompt)
        self._assets[prompt] = asset
        if len(self._assets) > CACHED_ASSETS:
            self._assets.popitem(last=False)
        return asset

    def encode(self, views: torch.Tensor) -> torch.Tensor:
        """Pixel space, as the base teacher's."""
        return self.base.encode(views)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.base.add_noise(x0, noise, t)

    @torch.no_grad()
    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, prompts: Sequence[str], cameras: torch.Tensor,
                guidance: float = 1.0, guidance_rescale: float = 0.0) -> torch.Tensor:
        """The generator's asset of each prompt rendered from ``cameras`` (B, V, 4, 4) at the size of
        ``x_t`` (B, V, 7, S, S); ``x_t``, ``t`` and the guidance do not change it."""
        from text3d.render.renderer import render
        from text3d.train.mvdiffusion_data import encode_views

        size = x_t.shape[-1]
        items = []
        for prompt, ring in zip(prompts, cameras.detach().cpu().numpy()):
            result = render(self._asset(prompt), [camera_from_c2w(m, 2 * size) for m in ring], background="white",
                            depth=True, normals=True)
            items.append(encode_views(result.rgb[..., :3], result.normals, result.depth, result.mask))
        return torch.from_numpy(np.stack(items)).to(dtype=x_t.dtype, device=x_t.device)
