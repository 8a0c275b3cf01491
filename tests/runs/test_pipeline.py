"""The pipeline hands backend options to the backend's constructor, never to ``generate``."""

import pytest

from text3d.errors import InputError
from text3d.generators import GeneratorOutput
from text3d.generators.backends.procedural import ProceduralGenerator
from text3d.runs import pipeline
from text3d.runs.pipeline import Pipeline, generate_batch


class Recorder:
    """A generator that records how it was built and called."""

    model = "recorder"

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def generate(self, condition, **settings) -> GeneratorOutput:
        self.calls.append(("generate", settings))
        return ProceduralGenerator().generate(condition, seed=settings["seed"])


def test_candidates_go_to_the_constructor_and_steps_and_cfg_to_generate(monkeypatch):
    calls: list = []

    def create(backend, model, device, **options):
        calls.append(("create", backend, options))
        return Recorder(calls)

    monkeypatch.setattr(pipeline, "create_generator", create)
    result = Pipeline("embedded", augment="none", steps=2, cfg=1.5, candidates=3)("small blue sailboat", seed=4)
    assert calls == [("create", "embedded", {"candidates": 3}),
                     ("generate", {"seed": 4, "steps": 2, "cfg": 1.5})]
    assert result.asset.n_faces > 0 and result.model == "recorder"


def test_a_backend_without_the_option_is_refused_before_the_run_folder_is_made(tmp_path):
    with pytest.raises(InputError, match="generator 'procedural' has no option 'candidates'"):
        generate_batch(["small blue sailboat"], tmp_path / "run", augment="none", backend="procedural", candidates=2)
    assert not (tmp_path / "run").exists()
