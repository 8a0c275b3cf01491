"""Prompt augmentation, as in the LLM-augmentation study of text-to-3D pipelines (Kim et al.,
*Balancing Fidelity and Efficiency …*): short prompt → LLM → one caption under the caption rules.

Public entry points: :func:`augment` (one prompt), :func:`augment_batch` (a resumable JSONL
batch), :class:`PromptAugmenter` (a configured stage), :class:`AugmentResult`. Backends are
named like ``embedded``, ``none``, ``llamacpp:smollm2:135m``, ``ollama:qwen3:0.6b``, ``openai:MODEL``, ``hf:REPO``.
"""

from __future__ import annotations

from text3d.prompts.augment import PromptAugmenter, augment
from text3d.prompts.base import AugmentResult, GenerationParams, augmenters, parse_llm_spec
from text3d.prompts.batch import BatchSummary, augment_batch

__all__ = ["AugmentResult", "BatchSummary", "GenerationParams", "PromptAugmenter", "augment", "augment_batch",
           "augmenters", "parse_llm_spec"]
