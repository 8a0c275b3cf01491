import pytest

from text3d.errors import InputError
from text3d.prompts.base import Augmenter, AugmentResult, BackendSpec, augmenters, parse_llm_spec


@pytest.mark.parametrize("spec, backend, model", [
    ("ollama:qwen3:0.6b", "ollama", "qwen3:0.6b"),
    ("ollama:gemma3:27b-it-q8_0", "ollama", "gemma3:27b-it-q8_0"),
    ("openai:Qwen/Qwen3-0.6B", "openai", "Qwen/Qwen3-0.6B"),
    ("hf:/models/qwen3:latest", "hf", "/models/qwen3:latest"),
    ("embedded", "embedded", ""),
    (" None ", "none", ""),
])
def test_parse_llm_spec_splits_at_the_first_colon(spec, backend, model):
    parsed = parse_llm_spec(spec)
    assert parsed == BackendSpec(backend, model)
    assert str(parsed) == (f"{backend}:{model}" if model else backend)


@pytest.mark.parametrize("spec", ["", "  ", ":qwen3"])
def test_parse_llm_spec_rejects_missing_backends(spec):
    with pytest.raises(InputError):
        parse_llm_spec(spec)


def test_every_backend_is_registered_and_follows_the_protocol():
    assert augmenters.names() == ["embedded", "hf", "llamacpp", "none", "ollama", "openai"]
    for name, model in (("embedded", ""), ("none", ""), ("ollama", "qwen3:0.6b"), ("openai", "m"), ("hf", "x")):
        backend = augmenters.create(name, model=model)
        assert isinstance(backend, Augmenter) and backend.backend == name


def test_unknown_backend_is_a_one_line_input_error():
    with pytest.raises(InputError, match="unknown augmenter 'llama'"):
        augmenters.get("llama")


@pytest.mark.parametrize("name", ["ollama", "openai", "hf", "llamacpp"])
def test_model_backends_need_a_model(name):
    with pytest.raises(InputError, match=name):
        augmenters.create(name, model="")


def test_result_round_trips_through_a_dict():
    result = AugmentResult(prompt="p", caption="c", backend="ollama", model="m", seed=3, latency_s=1.5,
                           prompt_tokens=10, completion_tokens=20, retries=1, rules_passed=True)
    data = result.to_dict()
    assert {"prompt", "caption", "backend", "model", "latency_s", "rules_passed"} <= set(data)
    assert AugmentResult.from_dict({**data, "unknown": 1}) == result
