"""text3d's ``openai:`` backend against a real OpenAI-compatible server: llama-cpp-python's
``python -m llama_cpp.server`` serving the packaged SmolLM2-135M-Instruct GGUF on loopback.

The batch is driven with real sampling; the server is killed (SIGKILL) while the batch runs,
the batch stops keeping what it finished, and after a restart on another port the same
batch (through the CLI, ``--llm openai:…`` with ``OPENAI_BASE_URL``) resumes: every prompt
ends with a caption and no caption of the first run is lost or redone.
"""

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("llama_cpp.server")

from text3d.cli import main  # noqa: E402
from text3d.prompts.augment import PromptAugmenter  # noqa: E402
from text3d.prompts.backends.llamacpp import resolve_model  # noqa: E402
from text3d.prompts.base import GenerationParams  # noqa: E402
from text3d.prompts.batch import augment_batch  # noqa: E402

PROMPTS = ["small blue sailboat", "red wooden chair", "green glass bottle", "yellow rubber duck"]
PARAMS = GenerationParams(max_tokens=24, max_retries=1)
MODEL = "smollm2:135m"
START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    """``python -m llama_cpp.server`` on a free loopback port; its log goes to a file."""

    def __init__(self, model: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        with log.open("wb") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL,
                 "--host", "127.0.0.1", "--port", str(self.port), "--n_threads", "1", "--n_threads_batch", "1",
                 "--n_ctx", "2048", "--verbose", "False"],
                stdout=handle, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/models", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.kill()
        raise AssertionError(f"llama_cpp.server did not answer in {START_TIMEOUT_S:g} s: {log.read_text()[-2000:]}")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_batch_through_a_real_server_survives_the_server_being_killed(tmp_path, monkeypatch, capsys):
    model = resolve_model(MODEL)
    out = tmp_path / "captions.jsonl"
    first_server = LlamaServer(model, tmp_path / "server1.log")
    try:
        stage = PromptAugmenter(f"openai:{MODEL}", PARAMS, cache=False, base_url=first_server.url, backoff_s=0.05)
        propose = stage.backend.propose
        calls = []

        def kill_during_the_third_prompt(request):
            calls.append(request.prompt)
            if len(set(calls)) == 3 and first_server.process.poll() is None:
                threading.Timer(0.2, first_server.kill).start()  # SIGKILL while the answer is generated
            return propose(request)

        monkeypatch.setattr(stage.backend, "propose", kill_during_the_third_prompt)
        first = augment_batch(PROMPTS, out, seed=0, augmenter=stage)
    finally:
        if first_server.process.poll() is None:
            first_server.kill()
    assert first.stopped and "not reachable" in first.stopped  # stopped, not an error row per prompt
    done = first.augmented  # 2, or 3 when the third answer came back before the kill
    assert first.failed == 0 and 2 <= done < len(PROMPTS)
    before = rows(out)
    assert [r["prompt"] for r in before] == PROMPTS[:done]
    assert all(r["caption"] and r["backend"] == "openai" and r["model"] == MODEL and not r["error"] for r in before)
    assert all(r["prompt_tokens"] > 100 and 0 < r["completion_tokens"] <= 48 for r in before)  # real usage counts

    prompts_file = tmp_path / "prompts.txt"
    prompts_file.write_text("\n".join(PROMPTS) + "\n")
    second_server = LlamaServer(model, tmp_path / "server2.log")
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", second_server.url)
        code = main(["augment", "--prompts", str(prompts_file), "--out", str(out), "--llm", f"openai:{MODEL}",
                     "--max-tokens", "24", "--retries", "1", "--seed", "0", "--no-cache", "--json"])
    finally:
        second_server.kill()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert (summary["resumed"], summary["augmented"], summary["failed"], summary["stopped"]) == (
        done, len(PROMPTS) - done, 0, None)
    after = rows(out)
    assert [r["prompt"] for r in after] == PROMPTS and all(r["caption"] for r in after)
    assert after[:done] == before  # the first run's captions are kept as they were
