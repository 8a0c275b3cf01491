"""A triplane SDF + color field (EG3D's triplane (Chan et al., 2022) as used by TriplaneTurbo
(Ma et al., 2025)).

Three axis-aligned feature planes, tensor (B, 3, C, R, R) in the order XY, XZ, YZ, cover the
box [-bound, bound]³. A point p is projected onto each plane, the plane is sampled bilinearly
(``grid_sample``, corners aligned to ±bound), and the three C-vectors are summed (C) or
concatenated (3C). A small MLP decodes them to a signed distance (negative inside, world
units) and a linear RGB albedo in [0, 1] (sigmoid), the color convention of
:class:`text3d.assets.Asset`.

With ``texture_channels > 0`` the first C − texture_channels channels feed the SDF head and
the last ones the color head, TriplaneTurbo's geometry and texture triplanes θ_geo / θ_tex.
``sdf_bias = "sphere"`` adds ‖p‖ − radius to the decoded SDF, so zero planes and the
small initial output layer describe nearly a sphere (the shape prior of threestudio's implicit SDF).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from text3d.errors import InputError
from text3d.nn.checkpoint import load_folder, save_folder

PLANE_AXES = ((0, 1), (0, 2), (1, 2))
"""The two world axes each plane is indexed by: XY, XZ, YZ. Plane[h, w] ↔ (axis₀ = w, axis₁ = h)."""


@dataclass
class TriplaneConfig:
    """Shape of the planes and of the decoder."""

    channels: int = 16          # C, feature channels per plane
    resolution: int = 32        # R, texels per plane side
    aggregate: str = "sum"      # "sum" (C features) or "concat" (3C)
    hidden: int = 32            # decoder width
    layers: int = 2             # hidden layers of each decoder head
    texture_channels: int = 0   # > 0: separate geometry / texture channels and heads
    bound: float = 0.55         # planes cover [-bound, bound]³ (assets live in [-0.5, 0.5]³)
    sdf_bias: str = "sphere"    # "sphere" or "none"
    sdf_bias_radius: float = 0.3

    def __post_init__(self) -> None:
        if self.aggregate not in ("sum", "concat"):
            raise InputError(f"triplane aggregate {self.aggregate!r}: use 'sum' or 'concat'")
        if self.sdf_bias not in ("sphere", "none"):
            raise InputError(f"triplane sdf_bias {self.sdf_bias!r}: use 'sphere' or 'none'")
        if not 0 <= self.texture_channels < self.channels:
            raise InputError(f"triplane texture_channels {self.texture_channels}: must be in [0, {self.channels})")
        if self.channels < 1 or self.resolution < 2 or self.hidden < 1 or self.layers < 0 or self.bound <= 0:
            raise InputError(f"triplane config {self}: sizes must be positive (resolution ≥ 2)")

    def plane_shape(self, batch: int = 1) -> tuple[int, int, int, int, int]:
        """(B, 3, C, R, R)."""
        return (batch, 3, self.channels, self.resolution, self.resolution)


def _mlp(inputs: int, hidden: int, layers: int, outputs: int) -> nn.Sequential:
    dims = [inputs] + [hidden] * layers
    modules: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:]):
        modules += [nn.Linear(a, b), nn.SiLU()]
    last = nn.Linear(dims[-1], outputs)
    with torch.no_grad():  # small output layer: the field starts near the SDF bias, near grey
        last.weight.mul_(0.1)
        last.bias.zero_()
    return nn.Sequential(*modules, last)


class TriplaneField(nn.Module):
    """The decoder of a triplane; the planes themselves are passed to every call."""

    def __init__(self, config: TriplaneConfig | None = None) -> None:
        super().__init__()
        self.config = config or TriplaneConfig()
        c = self.config
        tex = c.texture_channels
        geo = c.channels - tex
        factor = 3 if c.aggregate == "concat" else 1
        if tex:
            self.sdf_head = _mlp(geo * factor, c.hidden, c.layers, 1)
            self.rgb_head = _mlp(tex * factor, c.hidden, c.layers, 3)
        else:
            self.head = _mlp(c.channels * factor, c.hidden, c.layers, 4)

    # ------------------------------------------------------------------ planes
    def check_planes(self, planes: torch.Tensor) -> None:
        """Raise :class:`InputError` unless ``planes`` is (B, 3, C, R, R) with this config's C."""
        if planes.ndim != 5 or planes.shape[1] != 3 or planes.shape[2] != self.config.channels \
                or planes.shape[3] != planes.shape[4]:
            raise InputError(f"triplanes of shape {tuple(planes.shape)}: expected (B, 3, "
                             f"{self.config.channels}, R, R)")

    def init_planes(self, batch: int = 1, std: float = 0.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """Planes (B, 3, C, R, R): zeros, plus N(0, std²) noise if ``std`` > 0."""
        shape = self.config.plane_shape(batch)
        planes = torch.zeros(shape)
        if std > 0:
            planes = planes + std * torch.randn(shape, generator=generator)
        return planes

    def features(self, planes: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """Aggregated features (B, P, C or 3C) of world ``points`` (B, P, 3).

        Points outside the box read the border texels (``padding_mode="border"``).
        """
        b, p = points.shape[:2]
        uv = points / self.config.bound  # (B, P, 3) in [-1, 1]
        grids = torch.stack([uv[..., list(axes)] for axes in PLANE_AXES], dim=1)  # (B, 3, P, 2)
        flat = planes.reshape(b * 3, *planes.shape[2:])  # (3B, C, R, R)
        sampled = F.grid_sample(flat, grids.reshape(b * 3, 1, p, 2), mode="bilinear",
                                padding_mode="border", align_corners=True)  # (3B, C, 1, P)
        sampled = sampled.reshape(b, 3, planes.shape[2], p).permute(0, 3, 1, 2)  # (B, P, 3, C)
        if self.config.aggregate == "sum":
            return sampled.sum(dim=2)
        return sampled.reshape(b, p, 3 * planes.shape[2])

    def _bias(self, points: torch.Tensor) -> torch.Tensor:
        if self.config.sdf_bias == "sphere":
            return points.norm(dim=-1) - self.config.sdf_bias_radius
        return torch.zeros_like(points[..., 0])

    def _split(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(geometry, texture) features; with concat, each plane's C block is split alike."""
        tex = self.config.texture_channels
        c = self.config.channels
        blocks = feats.reshape(*feats.shape[:-1], feats.shape[-1] // c, c)  # (..., 1 or 3, C); no -1: P may be 0
        geo_part = blocks[..., : c - tex].flatten(-2)
        tex_part = blocks[..., c - tex:].flatten(-2)
        return geo_part, tex_part

    def forward(self, planes: torch.Tensor, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(sdf (B, P) world units, rgb (B, P, 3) linear in [0, 1]) at ``points`` (B, P, 3)."""
        feats = self.features(planes, points)
        if self.config.texture_channels:
            geo, tex = self._split(feats)
            sdf_raw = self.sdf_head(geo)[..., 0]
            rgb_raw = self.rgb_head(tex)
        else:
            out = self.head(feats)
            sdf_raw, rgb_raw = out[..., 0], out[..., 1:]
        return sdf_raw + self._bias(points), torch.sigmoid(rgb_raw)

    def sdf(self, planes: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """Signed distance (B, P) at ``points`` (B, P, 3)."""
        feats = self.features(planes, points)
        if self.config.texture_channels:
            raw = self.sdf_head(self._split(feats)[0])[..., 0]
        else:
            raw = self.head(feats)[..., 0]
        return raw + self._bias(points)

    def rgb(self, planes: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """Linear RGB (B, P, 3) at ``points`` (B, P, 3)."""
        feats = self.features(planes, points)
        if self.config.texture_channels:
            return torch.sigmoid(self.rgb_head(self._split(feats)[1]))
        return torch.sigmoid(self.head(feats)[..., 1:])

    def sdf_gradient(self, planes: torch.Tensor, points: torch.Tensor, eps: float | None = None) -> torch.Tensor:
        """∇sdf (B, P, 3) at ``points`` (B, P, 3) by central differences of step ``eps`` (default
        half a texel, 2·bound / (R − 1) / 2); differentiable in the planes and the decoder."""
        h = eps if eps is not None else self.config.bound / (self.config.resolution - 1)
        offsets = h * torch.cat([torch.eye(3), -torch.eye(3)]).to(points.dtype)  # (6, 3)
        probes = (points[:, :, None] + offsets).reshape(points.shape[0], -1, 3)
        values = self.sdf(planes, probes).reshape(*points.shape[:2], 6)
        return (values[..., :3] - values[..., 3:]) / (2.0 * h)

    def sdf_grid(self, planes: torch.Tensor, resolution: int, max_points: int = 1 << 18) -> torch.Tensor:
        """SDF on the (G, G, G) lattice of [-bound, bound]³ (index i, j, k ↔ x, y, z), per
        batch item: (B, G, G, G); differentiable, evaluated in chunks of ``max_points``."""
        axis = torch.linspace(-self.config.bound, self.config.bound, resolution)
        grid = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), dim=-1).reshape(1, -1, 3)
        chunks = [self.sdf(planes, grid[:, s:s + max_points].expand(planes.shape[0], -1, -1))
                  for s in range(0, grid.shape[1], max_points)]
        return torch.cat(chunks, dim=1).reshape(planes.shape[0], resolution, resolution, resolution)

    # ------------------------------------------------------------------ files
    def save(self, folder: str | Path, planes: torch.Tensor | None = None, card: str | None = None) -> Path:
        """``config.json`` + ``model.safetensors`` (decoder, and ``planes`` if given)."""
        state = {f"decoder.{k}": v for k, v in self.state_dict().items()}
        if planes is not None:
            self.check_planes(planes)
            state["planes"] = planes
        return save_folder(folder, state, {"model": "triplane", **asdict(self.config)}, card=card)

    @classmethod
    def load(cls, folder: str | Path) -> tuple["TriplaneField", torch.Tensor | None]:
        """(field, planes or None) from a folder written by :meth:`save`."""
        state, config = load_folder(Path(folder))
        config.pop("model", None)
        field = cls(TriplaneConfig(**config))
        field.load_state_dict({k[len("decoder."):]: v for k, v in state.items() if k.startswith("decoder.")})
        return field, state.get("planes")
