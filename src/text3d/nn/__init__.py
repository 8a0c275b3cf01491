"""Shared neural-network building blocks (transformer blocks, ViT, PointNet, DiT, flows)."""
