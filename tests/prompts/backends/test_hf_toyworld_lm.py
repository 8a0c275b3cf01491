"""``hf:toyworld-lm:<size>`` names the caption LMs shipped in the package: the smallest loads from
its folder and writes a caption that goes through the caption rules; an unknown size is a one-line
error naming it."""

import pytest
import torch

from text3d.errors import ModelNotAvailableError
from text3d.nn.checkpoint import WEIGHTS_ROOT
from text3d.prompts.augment import PromptAugmenter
from text3d.prompts.backends.hf import model_source
from text3d.prompts.base import GenerationParams


def test_the_name_resolves_to_the_shipped_folder():
    assert model_source("toyworld-lm:s") == str(WEIGHTS_ROOT / "toyworld-lm-s")
    with pytest.raises(ModelNotAvailableError, match="Qwen/Qwen3-0.6B: not in the local Hugging Face cache"):
        model_source("Qwen/Qwen3-0.6B")  # a hub id passes through only when cached: nothing downloads
    for bad in ("toyworld-lm:xl", "toyworld-lm:", "toyworld-lm:../generator"):
        with pytest.raises(ModelNotAvailableError, match="no shipped toyworld LM") as error:
            model_source(bad)
        assert "\n" not in str(error.value) and bad in str(error.value)


def test_the_small_model_writes_a_caption_that_passes_the_rules():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        augmenter = PromptAugmenter("hf:toyworld-lm:s", GenerationParams(temperature=0.0, max_tokens=64,
                                                                         max_retries=0), cache=False)
        result = augmenter.augment("blue sailboat", seed=0)
    finally:
        torch.set_num_threads(threads)
    assert (result.backend, result.model) == ("hf", "toyworld-lm:s")
    assert result.rules_passed, result.violations
    assert "sailboat" in result.caption.lower() and len(result.caption.split()) > 4
    assert 0 < result.completion_tokens <= 64
