"""PointNet++ single-scale-grouping classifier (Qi et al. 2017), written from the paper.

Three set-abstraction levels — 512 centroids (farthest point sampling), ball radius 0.2,
32 neighbours, shared MLP 64-64-128; 128 centroids, radius 0.4, 64 neighbours, MLP
128-128-256; one global group, MLP 256-512-1024 — then fully connected 1024→512→256→k
with batch norm, ReLU and dropout. The feature for FD_PointNet is the penultimate 256-d
activation (after the second FC's batch norm and ReLU).

Module names follow the widely used PyTorch layout (``sa1.mlp_convs.0.weight``,
``sa1.mlp_bns.0.running_mean``, ``fc1``/``bn1``/``fc2``/``bn2``/``fc3``), so its classification
checkpoints load as state dicts; widths and the class count are read from the state dict.
Unlike the training code, farthest point sampling starts at point 0, so features are
deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

FEATURE_DIM = 256


@dataclass(frozen=True)
class PointNet2Config:
    """Widths and grouping parameters of the SSG classifier (defaults: the published network)."""

    normal_channel: bool = False
    sa_mlps: tuple[tuple[int, ...], ...] = ((64, 64, 128), (128, 128, 256), (256, 512, 1024))
    npoints: tuple[int, int] = (512, 128)
    radii: tuple[float, float] = (0.2, 0.4)
    nsamples: tuple[int, int] = (32, 64)
    fc_widths: tuple[int, int] = (512, 256)
    num_classes: int = 40


def farthest_point_sample(xyz: torch.Tensor, count: int) -> torch.Tensor:
    """(B, N, 3) → (B, count) indices; greedy farthest-point order starting at index 0."""
    batch, n, _ = xyz.shape
    chosen = torch.zeros(batch, count, dtype=torch.long, device=xyz.device)
    nearest = torch.full((batch, n), float("inf"), device=xyz.device)
    current = torch.zeros(batch, dtype=torch.long, device=xyz.device)
    rows = torch.arange(batch, device=xyz.device)
    for i in range(count):
        chosen[:, i] = current
        centre = xyz[rows, current][:, None, :]
        nearest = torch.minimum(nearest, ((xyz - centre) ** 2).sum(-1))
        current = nearest.argmax(-1)
    return chosen


def gather_points(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values (B, N, C), index (B, …) → (B, …, C)."""
    batch = values.shape[0]
    rows = torch.arange(batch, device=values.device).view(batch, *([1] * (index.dim() - 1)))
    return values[rows, index]


def ball_query(radius: float, nsample: int, xyz: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """For each centre, the first ``nsample`` point indices (in input order) within ``radius``;
    short groups are padded with their first index. (B, S, nsample)."""
    n = xyz.shape[1]
    squared = torch.cdist(centres, xyz) ** 2
    order = torch.arange(n, device=xyz.device).expand_as(squared)
    keyed = torch.where(squared <= radius * radius, order, torch.full_like(order, n))
    take = min(nsample, n)
    index = torch.topk(keyed, take, dim=-1, largest=False, sorted=True).values
    first = index[..., :1].expand_as(index)
    index = torch.where(index == n, first, index)
    if take < nsample:
        index = torch.cat([index, first[..., :1].expand(*index.shape[:-1], nsample - take)], dim=-1)
    return index


class SetAbstraction(nn.Module):
    """Sample centroids, group neighbours (relative coordinates ++ features), shared MLP, max-pool."""

    def __init__(self, npoint: int | None, radius: float | None, nsample: int | None, in_channel: int,
                 mlp: tuple[int, ...]) -> None:
        super().__init__()
        self.npoint, self.radius, self.nsample = npoint, radius, nsample
        self.mlp_convs = nn.ModuleList()
        self.mlp_bns = nn.ModuleList()
        last = in_channel
        for width in mlp:
            self.mlp_convs.append(nn.Conv2d(last, width, 1))
            self.mlp_bns.append(nn.BatchNorm2d(width))
            last = width

    @property
    def group_all(self) -> bool:
        return self.npoint is None

    def forward(self, xyz: torch.Tensor, features: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """xyz (B, N, 3), features (B, N, C) or None → centroids (B, S, 3), features (B, S, C')."""
        if self.group_all:
            centres = torch.zeros(xyz.shape[0], 1, 3, device=xyz.device, dtype=xyz.dtype)
            grouped = xyz[:, None]
            if features is not None:
                grouped = torch.cat([grouped, features[:, None]], dim=-1)
        else:
            centres = gather_points(xyz, farthest_point_sample(xyz, min(self.npoint, xyz.shape[1])))
            index = ball_query(self.radius, self.nsample, xyz, centres)
            grouped = gather_points(xyz, index) - centres[:, :, None, :]
            if features is not None:
                grouped = torch.cat([grouped, gather_points(features, index)], dim=-1)
        x = grouped.permute(0, 3, 2, 1)  # (B, C, nsample, S)
        for conv, norm in zip(self.mlp_convs, self.mlp_bns):
            x = F.relu(norm(conv(x)))
        return centres, x.max(dim=2).values.transpose(1, 2)


class PointNet2SSG(nn.Module):
    """PointNet++ SSG classifier; :meth:`features` gives the penultimate 256-d activations."""

    def __init__(self, config: PointNet2Config | None = None) -> None:
        super().__init__()
        self.config = config = config or PointNet2Config()
        extra = 3 if config.normal_channel else 0
        (m1, m2, m3), (f1, f2) = config.sa_mlps, config.fc_widths
        self.sa1 = SetAbstraction(config.npoints[0], config.radii[0], config.nsamples[0], 3 + extra, m1)
        self.sa2 = SetAbstraction(config.npoints[1], config.radii[1], config.nsamples[1], m1[-1] + 3, m2)
        self.sa3 = SetAbstraction(None, None, None, m2[-1] + 3, m3)
        self.fc1, self.bn1, self.drop1 = nn.Linear(m3[-1], f1), nn.BatchNorm1d(f1), nn.Dropout(0.4)
        self.fc2, self.bn2, self.drop2 = nn.Linear(f1, f2), nn.BatchNorm1d(f2), nn.Dropout(0.4)
        self.fc3 = nn.Linear(f2, config.num_classes)

    def features(self, points: torch.Tensor) -> torch.Tensor:
        """(B, N, 3 or 6) points (xyz, then normals when ``normal_channel``) → (B, 256)."""
        xyz = points[..., :3]
        normals = points[..., 3:6] if self.config.normal_channel else None
        xyz, feats = self.sa1(xyz, normals)
        xyz, feats = self.sa2(xyz, feats)
        _, feats = self.sa3(xyz, feats)
        x = self.drop1(F.relu(self.bn1(self.fc1(feats[:, 0]))))
        return F.relu(self.bn2(self.fc2(x)))

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        """Class log-probabilities (B, k)."""
        return F.log_softmax(self.fc3(self.drop2(self.features(points))), dim=-1)


def config_from_state_dict(state: dict[str, torch.Tensor], **grouping: object) -> PointNet2Config:
    """Infer widths, normal channel and class count from a state dict's weight shapes;
    ``grouping`` may override ``npoints``, ``radii`` and ``nsamples``."""
    mlps = []
    for level in (1, 2, 3):
        widths, i = [], 0
        while f"sa{level}.mlp_convs.{i}.weight" in state:
            widths.append(int(state[f"sa{level}.mlp_convs.{i}.weight"].shape[0]))
            i += 1
        if not widths:
            raise KeyError(f"sa{level}.mlp_convs.0.weight")
        mlps.append(tuple(widths))
    first_in = int(state["sa1.mlp_convs.0.weight"].shape[1])
    return PointNet2Config(normal_channel=first_in == 6, sa_mlps=tuple(mlps),
                           fc_widths=(int(state["fc1.weight"].shape[0]), int(state["fc2.weight"].shape[0])),
                           num_classes=int(state["fc3.weight"].shape[0]), **grouping)
