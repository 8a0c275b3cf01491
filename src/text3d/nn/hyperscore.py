"""A multidimensional 3D quality evaluator in the style of MATE-3D's HyperScore (Zhang et al., 2024).

Placement: the network lives here, in :mod:`text3d.nn` (torch only, no I/O); the
``Evaluator`` protocol and its registered backends are in :mod:`text3d.eval.evaluators`, the
degradations it is trained on in :mod:`text3d.data.toyworld.degrade`, the training in
:mod:`text3d.train.evaluator`.

Shared feature extractor F(x, t): for each of V views (64² renders),

* a frozen copy of the embedded image encoder's ViT gives its CLS token and the 8×8 patch
  grid average-pooled to ``grid``² tokens (semantics: category, color);
* a small trainable conv stem gives ``grid``² tokens of low-level appearance (bumps, holes,
  speckle, washed-out color) that a ViT trained for category and color may discard; with
  ``normal_maps`` it reads each view's camera-space normal map beside its RGB (6 channels), as
  geometry-aware 3D quality models read geometry renders next to textured ones;
* with ``normal_stats``, one token of its normal map's statistics (:func:`normal_statistics`: the
  angles between neighbouring pixels' normals), a surface cue the stem alone did not learn to read;

the prompt's all-MiniLM-L6-v2 token states (from its input token embeddings, so the
gradient of a score reaches them), and one token made of the CLIP-like cosines between each
view and the prompt in the image encoder's frozen joint space (its strongest alignment cue).
All tokens are projected to ``width``, tagged with a learned view / slot embedding, and mixed by
``depth`` masked self-attention blocks.

Per-dimension conditioning (HyperScore's condition features and hypernetwork): each quality
dimension i has a learned condition embedding f_c^i; π(f_c^i) is the query of an attention
pooling over the fused tokens, and a hypernetwork maps π(f_c^i) to the weights and bias of
the dimension's score head: q_i = 10·σ(⟨W(f_c^i), h(pool_i)⟩ + b(f_c^i)) ∈ [0, 10].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from text3d.nn.blocks import MLP, Attention
from text3d.nn.vit import ViT, ViTConfig

DIMENSIONS = ("alignment", "geometry", "texture", "overall")


@dataclass
class HyperScoreConfig:
    """Shape of the evaluator (every field is written to ``config.json``)."""

    width: int = 128
    depth: int = 2
    heads: int = 4
    views: int = 4
    grid: int = 2
    text_dim: int = 384
    stem_channels: tuple[int, ...] = (32, 64)
    stem: str = "patchify"  # "patchify" (4×4 stride-4, average-pooled) or "full" (3×3 from 64², max-pooled)
    normal_maps: bool = False  # views are (RGB, camera-space normal) 6-channel images
    see_through: bool = False  # views were rendered with back faces culled (holes show the background)
    back_normals: bool = False  # normal maps keep back faces facing away (the inside of a hole, seen through it)
    geometry_branch: int = 0  # channels of a separate full-resolution CNN added to every score's logit (0: none)
    normal_stats: bool = False  # one token per view of normal-map statistics (needs normal_maps)
    color_stats: bool = False  # one token per view of colour statistics (hue, saturation, colour jumps)
    dimensions: tuple[str, ...] = DIMENSIONS
    vit: dict = field(default_factory=lambda: ViTConfig().to_dict())

    def to_dict(self) -> dict:
        data = asdict(self)
        data["stem_channels"] = list(self.stem_channels)
        data["dimensions"] = list(self.dimensions)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "HyperScoreConfig":
        data = {"back_normals": False, "color_stats": False, **data}  # folders from before the fields
        data["stem_channels"] = tuple(data["stem_channels"])
        data["dimensions"] = tuple(data["dimensions"])
        return cls(**data)

    @property
    def vit_tokens(self) -> int:
        """Frozen-ViT tokens kept per view: CLS + grid² pooled patches."""
        return 1 + self.grid * self.grid


class MaskedBlock(nn.Module):
    """Pre-norm self-attention (padding keys masked) + MLP."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, 2.0)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.attn(h, context=h, context_mask=mask)
        return x + self.mlp(self.norm2(x))


class ConvStem(nn.Module):
    """Images (N, inputs, 64, 64) → (N, grid², C). ``patchify``: a 4×4 stride-4 convolution (16² cells),
    then stride-2 3×3 convolutions, average-pooled to grid² (cheap; it sees strong blobbing but leaves
    surface noise and holes near a clean object's score). ``full``: 3×3 convolutions from the full 64²
    (the first at stride 1), then stride 2, max-pooled to grid², so a small defect is not averaged away."""

    def __init__(self, channels: tuple[int, ...], grid: int, inputs: int = 3, kind: str = "patchify") -> None:
        super().__init__()
        if kind not in ("patchify", "full"):
            raise ValueError(f"stem {kind!r}: use 'patchify' or 'full'")
        if kind == "full":  # 3×3 at 64² then stride 2: a local defect (a bump, a hole) keeps its own response
            layers: list[nn.Module] = [nn.Conv2d(inputs, channels[0], 3, padding=1), nn.GELU(),
                                       nn.Conv2d(channels[0], channels[0], 3, stride=2, padding=1), nn.GELU()]
        else:
            layers = [nn.Conv2d(inputs, channels[0], 4, stride=4), nn.GELU()]
        previous = channels[0]
        for width in channels[1:]:
            layers += [nn.Conv2d(previous, width, 3, stride=2, padding=1), nn.GELU()]
            previous = width
        self.net = nn.Sequential(*layers)
        self.grid = grid
        self.pool = F.adaptive_max_pool2d if kind == "full" else F.adaptive_avg_pool2d

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.net(images), self.grid)  # (N, C, g, g)
        return x.flatten(2).transpose(1, 2)


NORMAL_ANGLE_EDGES = (0.0, 2.0, 5.0, 10.0, 20.0, 40.0, 180.0)
"""Bin edges (degrees) of the angle between neighbouring pixels' normals in :func:`normal_statistics`."""


def decoded_normals(images: torch.Tensor) -> torch.Tensor:
    """Normalized 6-channel views (B, V, 6, S, S) → their camera-space normals (B, V, 3, S, S) in
    [−1, 1] (0 on the background)."""
    from text3d.nn.vit import PIXEL_MEAN, PIXEL_STD

    return (images[:, :, 3:6] * PIXEL_STD + PIXEL_MEAN) * 2.0 - 1.0


def normal_statistics(images: torch.Tensor) -> torch.Tensor:
    """Normalized 6-channel views (B, V, 6, S, S) → (B, V, 8) surface statistics of their normal maps.

    Per view: the histogram of the angle between the normals of horizontally and vertically
    neighbouring covered pixels (bins :data:`NORMAL_ANGLE_EDGES`, shares of the covered pairs), the
    share of covered pixels facing away from the camera (n_z < −0.05) and the covered share of the
    view. A smooth primitive puts most pairs under 5°, creases above 40°; surface noise fills 5–40°
    and blobbing empties the crease bin, the cues of classic no-reference mesh-quality measures
    (curvature and dihedral-angle statistics) read from the views instead of the mesh."""
    n = decoded_normals(images)
    covered = n.abs().sum(2) > 0.05  # background normals are 0
    unit = F.normalize(n, dim=2)
    cosines, pairs = [], []
    for a, b, ca, cb in ((unit[..., 1:, :], unit[..., :-1, :], covered[..., 1:, :], covered[..., :-1, :]),
                         (unit[..., 1:], unit[..., :-1], covered[..., 1:], covered[..., :-1])):
        cosines.append((a * b).sum(2).flatten(2))
        pairs.append((ca & cb).flatten(2))
    cos, both = torch.cat(cosines, 2), torch.cat(pairs, 2).to(n.dtype)  # (B, V, P)
    angle = torch.rad2deg(torch.arccos(cos.clamp(-1.0, 1.0)))
    total = both.sum(2).clamp_min(1.0)
    edges = NORMAL_ANGLE_EDGES
    bins = [((angle >= lo) & (angle < hi)).to(n.dtype).mul(both).sum(2) / total for lo, hi in zip(edges, edges[1:])]
    away = ((n[:, :, 2] < -0.05) & covered).flatten(2).sum(2) / covered.flatten(2).sum(2).clamp_min(1)
    share = covered.flatten(2).to(n.dtype).mean(2)
    return torch.stack(bins + [away.to(n.dtype), share], dim=2)


HUE_BINS = 12
"""Hue bins (30° each) of :func:`color_statistics`."""
COLOR_FEATURES = HUE_BINS + 5


def color_statistics(images: torch.Tensor) -> torch.Tensor:
    """Normalized views (B, V, C, S, S) → (B, V, 17) colour statistics of their covered pixels.

    Per view, over the covered pixels (normal map ≠ 0 with normal maps, else not white): the hue
    histogram in 12 bins of 30°, each pixel weighted by its saturation s = (max − min)/max; the shares
    of unsaturated (s < 0.2) dark (v < 0.25), mid and bright (v > 0.75) pixels (black, gray, white);
    the mean saturation; and the share of neighbouring covered pairs whose colours differ by more
    than 0.15 (RGB L∞). A wrong main colour moves the hue mass, washing out moves it to the
    unsaturated shares, shuffling raises the colour jumps: the cues that tell a texture flaw from
    an alignment one."""
    from text3d.nn.vit import PIXEL_MEAN, PIXEL_STD

    rgb = (images[:, :, :3] * PIXEL_STD + PIXEL_MEAN).clamp(0.0, 1.0)  # (B, V, 3, S, S)
    if images.shape[2] >= 6:
        covered = decoded_normals(images).abs().sum(2) > 0.05
    else:
        covered = (rgb < 0.98).any(2)
    high, low = rgb.max(2).values, rgb.min(2).values
    saturation = (high - low) / high.clamp_min(1e-6)
    r, g, b = rgb.unbind(2)
    hue = torch.rad2deg(torch.atan2(3.0 ** 0.5 * (g - b), 2.0 * r - g - b)) % 360.0  # (B, V, S, S)
    weight = covered.to(rgb.dtype)
    count = weight.flatten(2).sum(2).clamp_min(1.0)
    index = (hue / (360.0 / HUE_BINS)).long().clamp(0, HUE_BINS - 1)
    bins = F.one_hot(index, HUE_BINS).to(rgb.dtype) * (saturation * weight).unsqueeze(-1)
    histogram = bins.flatten(2, 3).sum(2) / count.unsqueeze(-1)  # (B, V, 12)
    grey = (saturation < 0.2) & covered
    shares = [((grey & (high < 0.25)).flatten(2).sum(2)), ((grey & (high >= 0.25) & (high <= 0.75)).flatten(2).sum(2)),
              ((grey & (high > 0.75)).flatten(2).sum(2))]
    shares = [s.to(rgb.dtype) / count for s in shares]
    mean_saturation = (saturation * weight).flatten(2).sum(2) / count
    jumps, pairs = [], []
    for a, c, ca, cc in ((rgb[..., 1:, :], rgb[..., :-1, :], covered[..., 1:, :], covered[..., :-1, :]),
                         (rgb[..., 1:], rgb[..., :-1], covered[..., 1:], covered[..., :-1])):
        both = ca & cc
        jumps.append(((a - c).abs().amax(2) > 0.15) & both)
        pairs.append(both)
    jump = sum(j.flatten(2).sum(2) for j in jumps).to(rgb.dtype) / sum(
        p.flatten(2).sum(2) for p in pairs).to(rgb.dtype).clamp_min(1.0)
    return torch.cat([histogram, torch.stack([*shares, mean_saturation, jump], dim=2)], dim=2)


class DefectBranch(nn.Module):
    """Views (B, V, C, 64, 64) → logits (B, n): a CNN apart from the fusion, for small surface defects.

    3×3 convolutions from the full resolution (stride 1, then 2, 2, 2: 64² → 8²), max-pooled over
    space and then over views, so one view's bump or hole is enough; a linear head, zero at
    initialization, adds its output to each dimension's logit. A CNN of this kind trained apart on the
    geometry kinds separated noise and holes from clean objects, which the fused tokens did not."""

    def __init__(self, inputs: int, channels: int, outputs: int) -> None:
        super().__init__()
        c = channels
        self.net = nn.Sequential(nn.Conv2d(inputs, c, 3, padding=1), nn.GELU(),
                                 nn.Conv2d(c, c, 3, stride=2, padding=1), nn.GELU(),
                                 nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.GELU(),
                                 nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1), nn.GELU())
        self.head = nn.Linear(2 * c, outputs)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        b, v = images.shape[:2]
        x = self.net(images.flatten(0, 1)).amax(dim=(2, 3))  # (B·V, 2c): strongest response per view
        return self.head(x.reshape(b, v, -1).amax(dim=1))  # (B, n)


class HyperScore(nn.Module):
    """(views, text token states) → scores (B, n_dimensions) in [0, 10]."""

    def __init__(self, config: HyperScoreConfig) -> None:
        super().__init__()
        self.config = config
        w, g = config.width, config.grid
        vit_config = ViTConfig(**config.vit)
        self.vit = ViT(vit_config).requires_grad_(False)
        # the image encoder's frozen joint-space projections: a CLIP-like cos(view, prompt) per view
        self.image_proj = nn.Linear(vit_config.width, vit_config.embed_dim).requires_grad_(False)
        self.text_proj_clip = nn.Sequential(nn.Linear(vit_config.text_dim, 512), nn.GELU(),
                                            nn.Linear(512, vit_config.embed_dim)).requires_grad_(False)
        self.similarity = nn.Linear(config.views, w)  # cosines of the V views → one token
        self.vit_proj = nn.Linear(self.vit.config.width, w)
        self.stem = ConvStem(config.stem_channels, g, 6 if config.normal_maps else 3, config.stem)
        self.stem_proj = nn.Linear(config.stem_channels[-1], w)
        self.text_proj = nn.Linear(config.text_dim, w)
        per_view = config.vit_tokens + g * g
        self.view_pos = nn.Parameter(torch.randn(config.views, per_view, w) * 0.02)  # view × slot
        self.text_pos = nn.Parameter(torch.randn(1, 1, w) * 0.02)
        self.blocks = nn.ModuleList(MaskedBlock(w, config.heads) for _ in range(config.depth))
        self.norm = nn.LayerNorm(w)
        n = len(config.dimensions)
        self.conditions = nn.Parameter(torch.randn(n, w) * 0.02)  # f_c^i
        self.condition_mlp = nn.Sequential(nn.Linear(w, w), nn.GELU(), nn.Linear(w, w))  # π
        self.pool = Attention(w, config.heads)
        self.hidden = nn.Sequential(nn.Linear(w, w), nn.GELU())  # h
        self.hyper = nn.Linear(w, w + 1)  # π(f_c^i) → (W_i, b_i)
        self.defects = (DefectBranch(6 if config.normal_maps else 3, config.geometry_branch, n)
                        if config.geometry_branch else None)
        if config.normal_stats and not config.normal_maps:
            raise ValueError("normal_stats needs normal_maps")
        self.stats_proj = nn.Sequential(nn.Linear(8, w), nn.GELU(), nn.Linear(w, w)) if config.normal_stats else None
        self.color_proj = (nn.Sequential(nn.Linear(COLOR_FEATURES, w), nn.GELU(), nn.Linear(w, w))
                           if config.color_stats else None)

    def train(self, mode: bool = True) -> "HyperScore":
        super().train(mode)
        self.vit.eval()  # frozen: no dropout / statistics either way
        return self

    def load_image_encoder(self, model: nn.Module) -> None:
        """Copy the frozen parts (ViT, joint-space projections) from an
        :class:`~text3d.nn.vit.ImageTextModel`."""
        self.vit.load_state_dict(model.vit.state_dict())
        self.image_proj.load_state_dict(model.image_proj.state_dict())
        self.text_proj_clip.load_state_dict(model.text_proj.state_dict())

    def view_text_cosines(self, cls: torch.Tensor, text_states: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
        """cos(image_proj(CLS_v), text_proj(MiniLM sentence vector)) per view: (B, V).

        The sentence vector is the mask-weighted mean of the token states, L2-normalized
        (all-MiniLM-L6-v2's pooling), as the embedded CLIP-like score computes it."""
        weights = text_mask.unsqueeze(-1).to(text_states.dtype)
        sentence = F.normalize((text_states * weights).sum(1) / weights.sum(1).clamp_min(1e-9), dim=-1)
        text = F.normalize(self.text_proj_clip(sentence), dim=-1)  # (B, E)
        image = F.normalize(self.image_proj(cls), dim=-1)  # (B, V, E)
        return (image * text[:, None]).sum(-1)

    def vit_features(self, images: torch.Tensor) -> torch.Tensor:
        """Normalized images (B, V, C, S, S) → frozen-ViT tokens (B, V, 1 + grid², vit width) of
        their RGB channels."""
        b, v = images.shape[:2]
        tokens = self.vit(images[:, :, :3].flatten(0, 1))  # (B·V, 1 + R + P, width)
        cls = tokens[:, :1]
        side = int(round(self.vit.config.patches ** 0.5))
        patches = tokens[:, 1 + self.vit.config.registers:].transpose(1, 2)
        patches = patches.reshape(len(tokens), -1, side, side)
        pooled = F.adaptive_avg_pool2d(patches, self.config.grid).flatten(2).transpose(1, 2)
        return torch.cat([cls, pooled], dim=1).reshape(b, v, self.config.vit_tokens, -1)

    def forward(self, images: torch.Tensor, text_states: torch.Tensor, text_mask: torch.Tensor,
                vit_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (B, n_dimensions) in [0, 10].

        images: normalized views (B, V, C, S, S), C = 6 (RGB, normals) with ``normal_maps`` else 3;
        text_states: MiniLM token states (B, L, 384);
        text_mask: (B, L), 1 for real tokens; vit_tokens: precomputed :meth:`vit_features`
        (training caches them), else they are computed from ``images``.
        """
        b, v = images.shape[:2]
        if vit_tokens is None:
            with torch.no_grad():
                vit_tokens = self.vit_features(images)
        semantic = self.vit_proj(vit_tokens.to(self.vit_proj.weight.dtype))  # (B, V, 1 + g², w)
        low = self.stem_proj(self.stem(images.flatten(0, 1))).reshape(b, v, -1, self.config.width)
        visual = (torch.cat([semantic, low], dim=2) + self.view_pos[:v]).flatten(1, 2)  # (B, V·T, w)
        text = self.text_proj(text_states) + self.text_pos
        cosines = self.view_text_cosines(vit_tokens[:, :, 0].to(text_states.dtype), text_states, text_mask)
        similarity = self.similarity(4.0 * cosines).unsqueeze(1)  # (B, 1, w)
        if self.stats_proj is not None:  # (B, V, w): one token per view, tagged with its view's first slot
            stats = self.stats_proj(4.0 * normal_statistics(images)) + self.view_pos[:v, 0]
            visual = torch.cat([visual, stats], dim=1)
        if self.color_proj is not None:  # (B, V, w): one token per view, tagged with its view's second slot
            colors = self.color_proj(4.0 * color_statistics(images)) + self.view_pos[:v, 1]
            visual = torch.cat([visual, colors], dim=1)
        x = torch.cat([similarity, visual, text], dim=1)
        mask = torch.cat([torch.ones(b, 1 + visual.shape[1], dtype=torch.bool, device=x.device),
                          text_mask.to(torch.bool)], dim=1)
        for block in self.blocks:
            x = block(x, mask)
        x = self.norm(x)
        query = self.condition_mlp(self.conditions)  # π(f_c^i): (n, w)
        pooled = self.pool(query.unsqueeze(0).expand(b, -1, -1), context=x, context_mask=mask)  # (B, n, w)
        weights = self.hyper(query)  # (n, w + 1)
        logits = (self.hidden(pooled) * weights[:, :-1]).sum(-1) + weights[:, -1]
        if self.defects is not None:
            logits = logits + self.defects(images)
        return 10.0 * torch.sigmoid(logits)


def views_tensor(images) -> torch.Tensor:
    """uint8 views (B, V, S, S, C) (numpy or tensor) → normalized float (B, V, C, S, S): (x/255 − 0.5)/0.25,
    the embedded ViT's input normalization (normal-map channels get the same)."""
    from text3d.nn.vit import PIXEL_MEAN, PIXEL_STD

    x = torch.as_tensor(images).float().div(255.0)
    return (x.permute(0, 1, 4, 2, 3) - PIXEL_MEAN) / PIXEL_STD
