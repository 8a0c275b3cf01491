"""The service refuses an augmenter spec the CLI refuses, up front and in the CLI's words."""

from __future__ import annotations

import pytest

from tests.serve.conftest import FAST, make_client
from text3d.cli import main

REFUSED_AUGMENTERS = ["ollama:", "openai:", "hf:", "llamacpp:", "embedded:x", "none:foo", "llamacpp:nosuch:1b"]
"""Specs whose backend refuses its model (missing, or given to a backend that takes none)."""


def _cli_error(augment: str, tmp_path, capsys) -> str:
    """The one line ``text3d generate --augment AUGMENT`` prints on stderr."""
    capsys.readouterr()
    code = main(["generate", "a chair", "--out", str(tmp_path / "asset"), "--backend", "procedural",
                 "--augment", augment, "-r", "16", "--no-gif"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code != 0 and len(lines) == 1 and lines[0].startswith("text3d: error: "), lines
    assert not (tmp_path / "asset").exists()
    return lines[0].removeprefix("text3d: error: ")


@pytest.mark.parametrize("augment", REFUSED_AUGMENTERS)
def test_an_augmenter_the_cli_refuses_is_refused_with_its_message_before_a_job_is_queued(tmp_path, capsys, augment):
    client = make_client(tmp_path / "data")  # not started: nothing runs
    answer = client.post("/v1/jobs", json={**FAST, "prompt": "a chair", "augment": augment})
    assert answer.status_code == 400, answer.text
    # the CLI's words, naming the request's field where the CLI names its option
    assert answer.json()["detail"] == "augment" + _cli_error(augment, tmp_path, capsys).removeprefix("--augment")
    jobs = tmp_path / "data" / "jobs"
    assert not jobs.exists() or not any(jobs.iterdir())


def test_the_augmenters_are_named_once(tmp_path):
    client = make_client(tmp_path / "data")
    names = client.get("/v1/options").json()["augmenters"]
    assert names[0] == "none" and len(names) == len(set(names))
    detail = client.post("/v1/jobs", json={**FAST, "prompt": "a chair", "augment": "nope:x"}).json()["detail"]
    known = detail.split("(known: ", 1)[1].rstrip(")").split(", ")
    assert "none" in known and len(known) == len(set(known)), detail


@pytest.mark.parametrize("backend, package", [("trellis-text", "trellis.pipelines"),
                                              ("triplaneturbo", "triplaneturbo_executable")])
def test_an_external_backend_whose_package_is_absent_is_refused_before_a_job_is_queued(tmp_path, monkeypatch, backend,
                                                                                       package):
    import sys

    for name in [n for n in sys.modules if n.split(".")[0] == package.split(".")[0]]:
        monkeypatch.delitem(sys.modules, name)  # a fake another test imported is not this machine's package
    client = make_client(tmp_path / "data")  # not started: nothing runs
    answer = client.post("/v1/jobs", json={**FAST, "prompt": "a chair", "backend": backend})
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"].startswith(f"{backend}: cannot import {package} (not installed); install")
    jobs = tmp_path / "data" / "jobs"
    assert not jobs.exists() or not any(jobs.iterdir())
