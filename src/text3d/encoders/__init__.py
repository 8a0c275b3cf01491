"""Encoders: feature extractors for evaluation (real adapters and, later, embedded models)."""

from text3d.encoders.base import FeatureExtractor, create_extractor, extractors

__all__ = ["FeatureExtractor", "create_extractor", "extractors"]
