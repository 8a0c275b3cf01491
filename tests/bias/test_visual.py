"""Visual augmentation: a scripted ranking model keeps only the winners, the pairs manifest and the
run folder are right, finished items and prompts are not redone, a review drops a pair, and
``text3d bias augment`` runs end to end with one-line errors."""

import json

import numpy as np
import pytest
import torch

from text3d.assets import Asset
from text3d.assets.io import load_asset
from text3d.bias.augment import CONTEXTS, run_augment
from text3d.bias.context import ContextSettings, ContextWriter
from text3d.bias.review import write_review
from text3d.bias.visual import Source, augment_visual, build_pairs, item_id, winner, write_pairs
from text3d.errors import BackendError
from text3d.eval.evaluators.base import Evaluator
from text3d.generators.base import Generator, GeneratorOutput
from text3d.prompts.base import Completion
from text3d.store.folders import RunFolder
from text3d.store.pairs import PAIRS_FILE

torch.set_num_threads(1)

PROMPT = "teal truck with gray cargo box"
C1 = "a teal truck with a gray cargo box parked at a dusty loading dock"
C2 = "a teal toy truck carrying a wooden box across a sandbox in the garden"
C3 = "a teal delivery truck hauling a gray cargo box of apples through an orchard"
QUALITY = {PROMPT: 5.0, C1: 7.0, C2: 5.0, C3: 3.0}  # ψ(x, t_n) of the asset made from each text


class Made(Generator):
    """Makes a box whose color encodes the text it was asked for; counts its calls."""

    def __init__(self, name, texts, fail=()):
        self.model, self.texts, self.fail, self.calls = name, list(texts), set(fail), []

    def generate(self, condition, seed=0, steps=None, cfg=None):
        self.calls.append(condition.prompt)
        if condition.prompt in self.fail:
            raise BackendError(f"{self.model}: cannot make {condition.prompt!r}\nsecond line")
        index = self.texts.index(condition.prompt)
        vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float) - 0.5
        faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
        return GeneratorOutput(Asset(vertices, faces, np.tile([index / 255, 0, 0, 1], (4, 1))))


class Ranker(Evaluator):
    """Scores an asset by the text it was made from (QUALITY) against the original prompt, and 1.0
    against any other text; its views carry the asset's color."""

    name, dimensions = "scripted", ("alignment", "overall")

    def __init__(self, texts):
        self.texts = list(texts)

    def render_views(self, asset):
        return np.full((1, 2, 2, 3), round(float(asset.vertex_colors[0, 0]) * 255), np.uint8)

    def score(self, views, prompts):
        made = [self.texts[int(v[0, 0, 0, 0])] for v in views]
        return np.array([[0.0, QUALITY[m] if p == PROMPT else 1.0] for m, p in zip(made, prompts)], np.float32)


def make(texts=(PROMPT, C1, C2, C3), fail=()):
    return Made("original-gen", texts), Made("external-gen", texts, fail), Ranker(texts)


def rows(kept=(C1, C2, C3)):
    return [{"prompt": PROMPT, "w_h": "teal", "w_l": "box", "kept": list(kept)}]


def test_only_winners_become_pairs_and_the_run_folder_is_right(tmp_path):
    original, external, ranker = make()
    run = RunFolder(tmp_path / "run")
    counts = augment_visual(rows(), run, original, Source("orig", seed=3), external, Source("ext", seed=7), ranker,
                            "overall")
    assert counts == {"made": 4, "skipped": 0, "failed": 0}
    assert original.calls == [PROMPT] and external.calls == [C1, C2, C3]
    pairs = build_pairs(rows(), run)
    assert [p["context"] for p in pairs] == [C1]  # C2 ties with the original (a tie loses), C3 is worse
    write_pairs(run, pairs)
    (pair,) = [json.loads(line) for line in (run.root / PAIRS_FILE).read_text().splitlines()]
    assert pair["text"] == PROMPT and pair["q"] == 7.0 and pair["q_original"] == 5.0 and pair["q_context"] == 1.0
    assert (pair["w_h"], pair["w_l"]) == ("teal", "box")
    assert pair["asset"] == f"items/{item_id('context', PROMPT, C1)}/asset.glb"
    assert pair["original_asset"] == f"items/{item_id('original', PROMPT)}/asset.glb"
    assert len(load_asset(run.root / pair["asset"]).faces) == 4
    manifest = run.manifest.rows()
    assert {r["context"]: r.get("win") for r in manifest.values()} == {None: None, C1: True, C2: False, C3: False}
    meta = json.loads((run.root / "items" / item_id("context", PROMPT, C1) / "meta.json").read_text())
    assert meta["prompt"] == C1 and meta["original_prompt"] == PROMPT and meta["seed"] == 7
    assert manifest[item_id("original", PROMPT)]["seed"] == 3
    assert [manifest[item_id("context", PROMPT, c)]["seed"] for c in (C1, C2, C3)] == [7, 8, 9]  # seed + c
    assert winner(7.0, 5.0) and not winner(5.0, 5.0) and not winner(7.0, 5.0, margin=2.5)


def test_resume_makes_only_missing_or_failed_items(tmp_path):
    original, external, ranker = make(fail={C2})
    run = RunFolder(tmp_path / "run")
    counts = augment_visual(rows(), run, original, Source("o"), external, Source("e"), ranker, "overall")
    assert counts == {"made": 3, "skipped": 0, "failed": 1}
    failed = run.manifest.rows()[item_id("context", PROMPT, C2)]
    assert failed["status"] == "failed" and "\n" not in failed["error"] and "cannot make" in failed["error"]
    original, external, ranker = make()
    (run.root / "items" / item_id("context", PROMPT, C3) / "asset.glb").unlink()  # an incomplete item
    counts = augment_visual(rows(), run, original, Source("o"), external, Source("e"), ranker, "overall")
    assert counts == {"made": 2, "skipped": 2, "failed": 0}
    assert original.calls == [] and external.calls == [C2, C3]
    assert [p["context"] for p in build_pairs(rows(), run)] == [C1]


class Scripted:
    backend, model, cacheable, identity = "scripted", "v1", False, False

    def __init__(self, answers):
        self.answers, self.requests = list(answers), []

    def propose(self, request):
        self.requests.append(request)
        return Completion(text=self.answers.pop(0))


def test_run_resumes_finished_prompts_and_a_review_drops_a_pair(tmp_path):
    texts = (PROMPT, C1, C2, C3)
    backend = Scripted([C1, C3, C2])
    made_writers = []

    def writer():
        made_writers.append(1)
        return ContextWriter(backend, ContextSettings(k=2, max_retries=0))

    table = [{"prompt": PROMPT, "w_h": "teal", "w_l": "box", "q_l": 1.0}]
    config = {"task": "bias-augment", "k": 2}
    review = tmp_path / "review.json"

    def go():
        original, external, ranker = make(texts)
        summary = run_augment(table, tmp_path / "run", config, writer, lambda: original, Source("o"),
                              lambda: external, Source("e"), ranker, "overall", k=2, review=review)
        return summary, original, external

    summary, original, external = go()
    assert summary["kept_contexts"] == 2 and summary["pairs"] == 1 and summary["winners"] == 1
    assert summary["pass_rate"]["words"] == 1.0 and summary["candidates"] == 2 and summary["context_assets"] == 2
    assert external.calls == [C1, C3] and len(backend.requests) == 2
    saved = json.loads(review.read_text())
    assert [(r["context"], r["auto"], r["review"]) for r in saved] == [(C1, "accept", ""), (C3, "accept", "")]
    # a rerun: nothing is asked or made again
    summary, original, external = go()
    assert len(made_writers) == 1 and original.calls == external.calls == [] and summary["pairs"] == 1
    assert summary["items"] == {"made": 0, "skipped": 3, "failed": 0}
    # the person rejects the winning context: its pair goes, a new slot is asked for, and made
    saved[0]["review"] = "reject"
    write_review(review, saved)
    summary, original, external = go()
    assert len(backend.requests) == 3 and external.calls == [C2]
    assert summary["pairs"] == 0 and summary["reviewed"] == 1 and summary["kept_contexts"] == 2
    assert (tmp_path / "run" / PAIRS_FILE).read_text() == ""
    contexts = [json.loads(line) for line in (tmp_path / "run" / CONTEXTS).read_text().splitlines()]
    assert len(contexts) == 2 and contexts[-1]["slots"] == 3
    with pytest.raises(Exception, match="other settings"):
        run_augment(table, tmp_path / "run", {**config, "k": 3}, writer, lambda: original, Source("o"),
                    lambda: external, Source("e"), make(texts)[2], "overall", k=3)


def test_failed_items_finish_the_run_with_exit_1(tmp_path, capsys, monkeypatch):
    from tests.nn.test_hyperscore import tiny_evaluator_folder
    from text3d import bias
    from text3d.cli import main
    from text3d.errors import Text3DError

    weights = tiny_evaluator_folder(tmp_path / "tiny-evaluator")
    (tmp_path / "loc").mkdir()
    (tmp_path / "loc" / "localization.json").write_text(json.dumps({
        "settings": {"backend": "procedural", "seed": 0},
        "prompts": [{"prompt": "red chair with four legs", "w_h": "chair", "w_l": "legs", "q_l": 5.0}]}))
    made = bias.visual.make_item

    def make_item(run, kind, *rest):
        if kind == "context":
            raise Text3DError("the external generator broke")
        return made(run, kind, *rest)

    monkeypatch.setattr(bias.visual, "make_item", make_item)
    code = main(["bias", "augment", "--table", str(tmp_path / "loc"), "--k", "1", "--evaluator-model", str(weights),
                 "--out", str(tmp_path / "aug")])
    captured = capsys.readouterr()
    assert code == 1 and json.loads(captured.out)["items"]["failed"] == 1
    assert "the external generator broke" in captured.err and "failed: 1 item(s)" in captured.err


def test_cli_end_to_end_and_one_line_errors(tmp_path, capsys):
    from tests.nn.test_hyperscore import tiny_evaluator_folder
    from text3d.cli import main

    weights = tiny_evaluator_folder(tmp_path / "tiny-evaluator")
    table = tmp_path / "loc"
    table.mkdir()
    (table / "localization.json").write_text(json.dumps({"settings": {"backend": "procedural", "seed": 0},
                                                         "prompts": [{"prompt": "red chair with four legs",
                                                                      "w_h": "chair", "w_l": "legs", "q_l": 5.0}]}))
    out = tmp_path / "aug"
    args = ["bias", "augment", "--table", str(table), "--llm", "embedded", "--k", "1", "--generator", "procedural",
            "--evaluator", "embedded-hyperscore", "--evaluator-model", str(weights), "--out", str(out),
            "--review", str(tmp_path / "review.csv")]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["prompts"] == 1 and summary["kept_contexts"] == 1 and summary["items"]["made"] == 2
    manifest = RunFolder(out).manifest.rows()
    assert sorted(r["kind"] for r in manifest.values()) == ["context", "original"]
    assert all(r["backend"] == "procedural" and r["status"] == "done" for r in manifest.values())
    pairs = (out / PAIRS_FILE).read_text().splitlines()
    assert len(pairs) == summary["pairs"] and (tmp_path / "review.csv").read_text().startswith("prompt,context")
    assert main(args) == 0  # resumes: nothing made again
    assert json.loads(capsys.readouterr().out)["items"] == {"made": 0, "skipped": 2, "failed": 0}
    code = main(["bias", "augment", "--table", str(tmp_path / "none"), "--out", str(tmp_path / "o2")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "no localization.json" in err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "localization.json").write_text('{"prompts": [{"w_h": "x"}]}')
    code = main(["bias", "augment", "--table", str(tmp_path / "broken"), "--out", str(tmp_path / "o3")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "not a localization table (a row or the table lacks 'prompt')" in err
    for text, says in (("{", "not JSON (Expecting property name"), ("[1, 2]", "not a localization table (expected")):
        (tmp_path / "broken" / "localization.json").write_text(text)
        code = main(["bias", "augment", "--table", str(tmp_path / "broken"), "--out", str(tmp_path / "o3")])
        err = capsys.readouterr().err.strip()
        assert code == 2 and "\n" not in err and says in err and "Error" not in err, err
    settings = {"backend": "procedural"}
    for row, says in (({"prompt": None, "w_h": "x", "w_l": None}, "row 1: 'prompt' must be a non-empty string"),
                      ({"prompt": "red chair", "w_h": 5, "w_l": None}, "row 1: 'w_h' must be a word of the prompt"),
                      ({"prompt": "red chair", "w_h": "sofa", "w_l": "red"}, "w_h 'sofa' is not a word of the prompt"),
                      ({"prompt": "red chair", "w_h": "chair", "w_l": "red", "q_l": "x"}, "'q_l' must be a number")):
        (tmp_path / "broken" / "localization.json").write_text(json.dumps({"prompts": [row], "settings": settings}))
        code = main(["bias", "augment", "--table", str(tmp_path / "broken"), "--out", str(tmp_path / "o3")])
        err = capsys.readouterr().err.strip()
        assert code == 2 and "\n" not in err and says in err, err
        assert not (tmp_path / "o3").exists()
    # a generator that cannot load stops the run (exit 3) at its first item; the contexts written stay
    unavailable = [a if a != "procedural" else "trellis-text" for a in args[:-2]]
    unavailable[unavailable.index(str(out))] = str(tmp_path / "o4")
    assert main(unavailable) == 3
    assert "trellis" in capsys.readouterr().err and (tmp_path / "o4" / "contexts.jsonl").is_file()
    code = main([*args[:-2], "--review", str(tmp_path / "review.txt")])
    assert code == 2 and ".json or .csv" in capsys.readouterr().err


def test_a_prompt_whose_candidates_all_fail_the_filters_is_said(tmp_path, caplog):
    # neither candidate keeps both words ("teal", "box"): the word filter rejects them
    backend = Scripted(["a red car on a road", "a green bicycle in a park"] * 4)  # every slot it may ask
    table = [{"prompt": PROMPT, "w_h": "teal", "w_l": "box", "q_l": 1.0}]
    original, external, ranker = make()
    with caplog.at_level("WARNING"):
        summary = run_augment(table, tmp_path / "run", {"task": "bias-augment", "k": 2},
                              lambda: ContextWriter(backend, ContextSettings(k=2, max_retries=0)), lambda: original,
                              Source("o"), lambda: external, Source("e"), ranker, "overall", k=2)
    assert summary["kept_contexts"] == 0 and summary["failed_prompts"] == [] and summary["pairs"] == 0
    assert f"1 prompt(s) kept no context, every candidate failing a filter (summary.json pass_rate says which): " \
           f"{PROMPT!r}" in caplog.text
