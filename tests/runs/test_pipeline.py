"""The pipeline hands backend options to the backend's constructor, never to ``generate``."""

import pytest

from text3d.errors import InputError, ModelNotAvailableError
from text3d.generators import GeneratorOutput
from text3d.generators.backends.procedural import ProceduralGenerator
from text3d.runs import pipeline
from text3d.runs.pipeline import Pipeline, generate_batch
from text3d.store.folders import AssetFolder


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


def test_overwrite_replaces_the_earlier_asset_and_keeps_the_users_files(tmp_path):
    out = tmp_path / "asset"
    pipeline.generate("a chair", out, augment="none", backend="procedural", views=("canonical4", "clip8"),
                      resolution=64, gif=False)
    (out / "views" / "my_edits").mkdir()
    (out / "views" / "my_edits" / "retouched.png").write_text("mine")
    (out / "views" / "canonical4" / "notes.txt").write_text("notes")
    (out / "readme.txt").write_text("about this chair")

    pipeline.generate("a red chair", out, augment="none", backend="procedural", views=("canonical4",),
                      resolution=64, gif=False, overwrite=True)

    assert (out / "views" / "my_edits" / "retouched.png").read_text() == "mine"
    assert (out / "views" / "canonical4" / "notes.txt").read_text() == "notes"
    assert (out / "readme.txt").read_text() == "about this chair"
    assert AssetFolder(out).read_meta()["prompt"] == "a red chair"
    assert AssetFolder(out).has_views("canonical4", 64)
    assert not (out / "views" / "clip8").exists()  # the earlier asset's views are not left beside the new ones


@pytest.mark.parametrize("augment, error", [("ollama:", InputError), ("none:foo", InputError),
                                             ("embedded:x", InputError), ("llamacpp:nosuch:1b", InputError),
                                             ("hf:toyworld-lm:zz", ModelNotAvailableError)])
def test_an_augmenter_spec_its_backend_refuses_is_refused_before_the_run_folder_is_made(tmp_path, augment, error):
    # a local model's name (a packaged tag, a file, a shipped size) is resolved without loading it
    with pytest.raises(error):
        generate_batch(["small blue sailboat"], tmp_path / "run", augment=augment, backend="procedural")
    assert not (tmp_path / "run").exists()


def test_overwrite_killed_while_writing_the_new_asset_leaves_the_earlier_one_whole(tmp_path, monkeypatch):
    out = tmp_path / "asset"
    pipeline.generate("a chair", out, augment="none", backend="procedural", resolution=64, gif=False)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "render_views", killed)
    with pytest.raises(KeyboardInterrupt):
        pipeline.generate("a red chair", out, augment="none", backend="procedural", resolution=64, gif=False,
                          overwrite=True)

    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # no staging folder left, the earlier asset's every byte in place
    assert AssetFolder(out).read_meta()["prompt"] == "a chair"


def test_a_timeout_for_an_augmenter_without_a_server_warns(caplog):
    with caplog.at_level("WARNING", logger="text3d.prompts.augment"):
        Pipeline("procedural", "none", timeout_s=5.0)
    assert any("timeout 5 s is unused: none runs here" in r.getMessage() for r in caplog.records)


def test_a_new_asset_killed_while_rendering_leaves_nothing_and_the_same_command_runs_again(tmp_path, monkeypatch):
    out = tmp_path / "asset"
    real = pipeline.render_views

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "render_views", killed)
    with pytest.raises(KeyboardInterrupt):  # after asset.glb was exported, before any view was complete
        pipeline.generate("a chair", out, augment="none", backend="procedural", resolution=64, gif=False)
    assert not out.exists()  # no half-written asset for the rerun to refuse
    monkeypatch.setattr(pipeline, "render_views", real)
    pipeline.generate("a chair", out, augment="none", backend="procedural", resolution=64, gif=False)
    assert AssetFolder(out).read_meta()["prompt"] == "a chair" and not list(out.glob(".staging-*"))


def test_the_augmenter_is_loaded_when_the_pipeline_is_built_not_in_the_first_items_timing(monkeypatch):
    import importlib

    from text3d.prompts.embedded.augmenter import EmbeddedAugmenter

    augment_module = importlib.import_module("text3d.prompts.augment")  # the package exports augment()

    warmed = []
    monkeypatch.setattr(augment_module, "_STAGES", {})
    monkeypatch.setattr(EmbeddedAugmenter, "warm_up", lambda self: warmed.append(self))
    built = []
    real_init = augment_module.PromptAugmenter.__init__
    monkeypatch.setattr(augment_module.PromptAugmenter, "__init__",
                        lambda self, *a, **k: (built.append(1), real_init(self, *a, **k))[1])
    pipe = Pipeline("procedural", "embedded")
    assert len(warmed) == 1 and len(built) == 1
    result = pipe("a red chair", seed=0)
    assert len(built) == 1 and result.timings["augment"] >= 0  # the item used the stage built with the pipeline


@pytest.mark.parametrize("arguments, words", [
    ({"prompt": 5}, "prompt 5: expected text (str), got int"),
    ({"prompt": b"red chair"}, "expected text (str), got bytes"),
    ({"seed": 1.5}, "seed 1.5: expected a whole number (int), got float"),
    ({"seed": None}, "seed None: expected a whole number"),
    ({"steps": "5"}, "steps '5': expected a whole number"),
    ({"cfg": "3"}, "cfg '3': expected a number, got str"),
    ({"resolution": 32.5}, "resolution 32.5: expected a whole number"),
    ({"augment": None}, "augment None: expected a name (str), got NoneType"),
    ({"views": "canonical4"}, "views 'canonical4': expected a list of view protocol names"),
    ({"views": None}, "views None: expected a list"),
    ({"conditioning": "gap3d", "backend": "embedded", "aligner": 5}, "aligner 5: expected an aligner folder"),
    ({"overwrite": "false"}, "overwrite 'false': expected True or False (bool), got str"),  # a true string
    ({"gif": "no"}, "gif 'no': expected True or False (bool), got str"),
    ({"out": 5}, "out 5: expected a folder path (str or Path), got int"),
])
def test_the_python_api_refuses_wrong_types_in_one_line_before_any_model_loads(tmp_path, monkeypatch, arguments,
                                                                                words):
    monkeypatch.setattr(pipeline, "create_generator", lambda *a, **k: pytest.fail("a model was loaded"))
    call = {"prompt": "red chair", "out": tmp_path / "o", "augment": "none", "backend": "procedural", **arguments}
    with pytest.raises(InputError) as caught:
        pipeline.generate(call.pop("prompt"), **call)
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "o").exists()
