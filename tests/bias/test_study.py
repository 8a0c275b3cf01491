"""``text3d bias study``: localize → augment (per word choice) → fine-tune → evaluate, and its tables."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from text3d.bias import localize as localize_module
from text3d.bias.study import KINDS, Study, StudySettings, variant_rows
from text3d.bias.study_tables import build_tables, r_at_1
from text3d.errors import InputError
from text3d.eval.evaluators import create_evaluator
from text3d.train import generator_finetune as ft

TINY_FT = {"steps": 2, "batch": 4, "replay_items": 2, "warmup": 1, "checkpoint_every": 1}


def _finetune(pairs, folder, options, base):
    ft.finetune_generator(pairs, folder, ft.FinetuneConfig(**options), base=base)


def test_variant_rows_keep_the_words_of_each_ablation():
    row = {"prompt": "big orange plastic ball", "w_h": "ball", "w_l": "plastic", "q_l": 1.0,
           "words": [{"word": w, "content": True} for w in ("big", "orange", "plastic", "ball")]}
    assert variant_rows([row], "full", 0)[0]["w_h"] == "ball" and variant_rows([row], "full", 0)[0]["w_l"] == "plastic"
    assert variant_rows([row], "w_h", 0)[0]["w_l"] is None and variant_rows([row], "w_h", 0)[0]["w_h"] == "ball"
    assert variant_rows([row], "w_l", 0)[0]["w_h"] is None and variant_rows([row], "w_l", 0)[0]["w_l"] == "plastic"
    drawn = {tuple(sorted(filter(None, (r["w_h"], r["w_l"])))) for s in range(12)
             for r in variant_rows([row], "random", s)}
    assert len(drawn) > 2 and all(len(set(d)) == 2 and set(d) <= {"big", "orange", "plastic", "ball"} for d in drawn)


def test_tables_from_known_scores():
    def group(score, similarity):
        return {"scores": np.array(score, np.float32), "similarity": np.array(similarity, np.float32)}

    eye, wrong = [[2.0, 1.0], [1.0, 2.0]], [[2.0, 1.0], [2.5, 2.0]]
    base = {"toyworld": {k: group([5.0, 5.0], wrong if k == "grouped" else eye) for k in KINDS}}
    full = {"toyworld": {k: group([6.0, 6.0] if k == "complex" else [5.0, 5.0], eye) for k in KINDS}}
    tables = build_tables({"base": base, "full": full}, "0–10")
    assert tables["mate3d"]["rows"] == list(KINDS) and tables["mate3d"]["columns"] == ["base", "full", "Δ %"]
    complex_row = tables["mate3d"]["values"][KINDS.index("complex")]
    assert complex_row == [5.0, 6.0, 20.0]
    assert tables["t3bench"]["rows"] == ["Single Obj.", "w/ Env", "Multi-Obj."]
    assert tables["t3bench"]["values"][1][:2] == [50.0, 60.0]  # complex, × 10 to [0, 100]
    grouped = tables["clip_r1"]["values"][KINDS.index("grouped")]
    assert grouped[2] == 0.5 and grouped[3] == 1.0 and grouped[4] == 100.0  # R@1 0.5 → 1.0
    assert tables["checks"]["complex score +5 %"] and not tables["checks"]["grouped score +5 %"]
    assert tables["checks"]["grouped R@1 +5 %"] and tables["checks"]["basic score ≥ −2 %"]
    assert r_at_1(np.array(wrong)) == 0.5
    assert r_at_1(np.array([[0.3]])) is None  # one prompt in its group: R@1 cannot fail


def test_settings_are_checked():
    with pytest.raises(InputError, match="use dev or test"):
        StudySettings(split="train")
    with pytest.raises(InputError, match="--variants"):
        StudySettings(variants=("everything",))


def test_tiny_study_runs_end_to_end_and_resumes_after_a_kill(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    settings = StudySettings(n=1, split="dev", localize_n=1, samples=1, k=1, variants=("full",), finetune=TINY_FT)
    evaluator = create_evaluator("clip", device="cpu")
    real_eval = Study.run_eval

    def killed(self, name, model):
        if name == "full":
            raise KeyboardInterrupt  # the base model's files are written, the fine-tuned one's not yet
        real_eval(self, name, model)

    monkeypatch.setattr(Study, "run_eval", killed)
    with pytest.raises(KeyboardInterrupt):
        Study(tmp_path, settings, evaluator, _finetune, device="cpu", progress=False).run()
    base_files = sorted((tmp_path / "eval" / "base").glob("*.npz"))
    assert len(base_files) == len(KINDS) and (tmp_path / "model-full" / "model.safetensors").exists()
    stamps = [p.stat().st_mtime_ns for p in base_files]

    monkeypatch.setattr(Study, "run_eval", real_eval)
    steps, localized = [], []
    monkeypatch.setattr(ft, "optimizer_step", lambda *a, **k: steps.append(1))
    monkeypatch.setattr(localize_module, "localize_prompt", lambda *a, **k: localized.append(1))
    record = Study(tmp_path, settings, evaluator, _finetune, device="cpu", progress=False).run()
    assert not steps and not localized  # nothing finished is done again
    assert [p.stat().st_mtime_ns for p in base_files] == stamps
    assert len(list((tmp_path / "eval" / "full").glob("*.npz"))) == len(KINDS)
    tables = json.loads((tmp_path / "tables.json").read_text())
    assert tables == json.loads(json.dumps(record))
    for key in ("mate3d", "clip_r1", "ablation"):
        assert tables[key]["rows"] == list(KINDS)
    assert tables["ablation"]["columns"] == ["base", "full"]
    assert all(v is not None for row in tables["mate3d"]["values"] for v in row[:2])
    markdown = (tmp_path / "tables.md").read_text()
    assert "| complex |" in markdown and "Multi-Obj." in markdown
    # a rerun that redoes nothing keeps the timings of the runs that did the work, adding its own
    again = Study(tmp_path, settings, evaluator, _finetune, device="cpu", progress=False).run()
    for stage, spent in tables["seconds"].items():
        assert again["seconds"][stage] == pytest.approx(spent + again["seconds_this_run"][stage], abs=0.11)
    assert again["seconds"]["eval-full"] >= tables["seconds_this_run"]["eval-full"]

    with pytest.raises(InputError, match="other settings"):
        Study(tmp_path, StudySettings(n=2, split="dev", localize_n=1, samples=1, k=1, variants=("full",),
                                      finetune=TINY_FT), evaluator, _finetune).run()


def test_word_choices_that_keep_the_same_pairs_share_one_model_and_its_figures(tmp_path, monkeypatch):
    settings = StudySettings(n=1, split="dev", localize_n=1, samples=1, k=1, variants=("random", "w_h", "full"),
                             finetune=TINY_FT)
    asset = tmp_path / "asset.glb"
    asset.write_bytes(b"the same asset bytes")
    contexts = {"random": "a ball on a shelf", "w_h": "a ball in a garden", "full": "a ball on a shelf"}

    def augment(self, rows, variant):
        folder = self.out / f"augment-{variant}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pairs.jsonl").write_text(json.dumps({"asset": str(asset), "text": "ball",
                                                        "context": contexts[variant]}) + "\n")
        return {"pairs": 1, "kept_contexts": 1}

    evaluated, tuned = [], []

    def evaluate(self, name, model):
        evaluated.append(name)
        folder = self.out / "eval" / name
        folder.mkdir(parents=True, exist_ok=True)
        score = {"base": 5.0, "random": 6.0, "w_h": 7.0}[name]
        for kind in KINDS:
            np.savez(folder / f"toyworld-{kind}.npz", scores=np.array([score]), similarity=np.ones((1, 1)))

    monkeypatch.setattr(Study, "run_localize", lambda self: [])
    monkeypatch.setattr(Study, "run_augment", augment)
    monkeypatch.setattr(Study, "run_eval", evaluate)
    record = Study(tmp_path, settings, create_evaluator("clip", device="cpu"),
                   lambda pairs, folder, options, base: tuned.append(pairs.name), progress=False).run()
    assert tuned == ["augment-random", "augment-w_h"]  # full's pairs are random's: not trained again
    assert evaluated == ["base", "random", "w_h"]
    assert record["augment"]["full"]["same_pairs_as"] == "random" and "same_pairs_as" not in record["augment"]["w_h"]
    ablation = record["ablation"]
    assert ablation["columns"] == ["base", "w/o grad guide", "only w_h", "full"]
    assert all(row[3] == row[1] == 6.0 and row[2] == 7.0 for row in ablation["values"])
    assert "Word choice full kept the same pairs as random" in (tmp_path / "tables.md").read_text()


def test_cli_refuses_bad_inputs_in_one_line(tmp_path, capsys):
    from text3d.cli import main
    from text3d.nn.checkpoint import save_folder

    (tmp_path / "bad.csv").write_text("text,score\nA red apple,3\n")
    save_folder(tmp_path / "notgen", {"w": torch.zeros(2)}, {"model": {"width": 2}})
    cases = [(["--mate3d", str(tmp_path / "bad.csv")], "category column"),
             (["--model", str(tmp_path / "notgen")], "not an embedded generator"),
             (["--base", str(tmp_path / "notgen")], "--base"),
             (["--base", str(tmp_path / "nowhere")], f"--base {tmp_path / 'nowhere'}: no such folder"),
             (["--split", "train"], "use dev or test"),
             (["--evaluator", "embedded-hyperscore", "--evaluator-model", str(tmp_path / "none")],
              "none: no such folder")]
    for extra, needle in cases:
        code = main(["bias", "study", "--out", str(tmp_path / "out"), *extra])
        err = capsys.readouterr().err.strip()
        assert code != 0 and needle in err and len(err.splitlines()) == 1, (extra, err)
    assert not (tmp_path / "out").exists()  # refused before anything was written
