"""PointNet (Qi et al. 2017, without the T-nets): a shared per-point MLP, a max-pool over
points, and a classifier whose penultimate activations are the FD_PointNet features."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class PointNetConfig:
    """Widths of the per-point MLP and the head; ``classes`` output logits."""

    point_mlp: tuple[int, ...] = (64, 128, 256, 512)
    head: tuple[int, ...] = (256, 128)
    classes: int = 45
    dropout: float = 0.3

    def to_dict(self) -> dict:
        data = asdict(self)
        data["point_mlp"] = list(self.point_mlp)
        data["head"] = list(self.head)
        return data


class PointNet(nn.Module):
    """Points (B, N, 3) → (features (B, head[-1]), logits (B, classes))."""

    def __init__(self, config: PointNetConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = 3
        for out in config.point_mlp:
            layers += [nn.Conv1d(width, out, 1), nn.BatchNorm1d(out), nn.ReLU()]
            width = out
        self.point_mlp = nn.Sequential(*layers)
        head: list[nn.Module] = []
        for out in config.head:
            head += [nn.Linear(width, out), nn.BatchNorm1d(out), nn.ReLU()]
            width = out
        self.head = nn.Sequential(*head)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(width, config.classes)

    def forward(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.point_mlp(points.transpose(1, 2))
        features = self.head(x.max(dim=2).values)
        return features, self.classifier(self.dropout(features))
