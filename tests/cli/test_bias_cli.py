"""``text3d bias localize`` writes the JSON and CSV tables, a heat-map PNG per prompt and an HTML
page, resumes a finished folder, and refuses a bad prompts file with one line."""

import csv
import json

import torch
from PIL import Image

from tests.nn.test_hyperscore import tiny_evaluator_folder, tiny_network
from text3d.cli import main
from text3d.eval.evaluators.base import evaluators as EVALUATORS
from text3d.nn.checkpoint import save_folder

torch.set_num_threads(1)


def test_localize_writes_table_heatmaps_and_page(tmp_path, capsys):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# two prompts\nsmall red teapot\n\na blue wooden chair with four legs\n")
    weights = tiny_evaluator_folder(tmp_path / "tiny-evaluator")
    out = tmp_path / "loc"
    args = ["bias", "localize", "--prompts", str(prompts), "--backend", "procedural", "--evaluator",
            "embedded-hyperscore", "--evaluator-model", str(weights), "--samples", "2", "--out", str(out)]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    table = json.loads((out / "localization.json").read_text())
    assert summary["prompts"] == len(table["prompts"]) == 2
    assert table["settings"]["dimension"] == "overall"
    rows = {r["prompt"]: r for r in table["prompts"]}
    chair = rows["a blue wooden chair with four legs"]
    assert len(chair["scores"]["overall"]) == 2
    assert chair["w_h"] in {"blue", "wooden", "chair", "four", "legs"} and chair["w_l"] != "a"
    content = [w for w in chair["words"] if w["content"]]
    assert max(content, key=lambda w: w["attribution"])["word"] == chair["w_h"]
    assert abs(table["q_g"] - sum(r["q_l"] for r in table["prompts"]) / 2) < 1e-5
    assert all(abs(r["bias"] - (r["q_l"] - r["q_g"])) < 1e-5 for r in table["prompts"])
    with (out / "localization.csv").open() as handle:
        assert [r["prompt"] for r in csv.DictReader(handle)] == ["small red teapot", chair["prompt"]]
    for index in range(2):
        with Image.open(out / "heatmaps" / f"{index:03d}.png") as image:
            assert image.width > 100 and image.height > 50
    page = (out / "index.html").read_text()
    assert "heatmaps/001.png" in page and "teapot" in page
    # a rerun with the same settings resumes (nothing to redo) and writes the same table
    assert main(args) == 0
    assert json.loads((out / "localization.json").read_text())["prompts"] == table["prompts"]
    assert table["settings"]["evaluator_sha256"] == EVALUATORS.get("embedded-hyperscore").weights_sha256(str(weights))
    # other evaluator weights at the same path (a retrained evaluator) do not resume the folder
    capsys.readouterr()
    retrained = tiny_network(views=4)
    save_folder(weights, {k: v + 0.01 for k, v in retrained.state_dict().items()},
                {"model": retrained.config.to_dict()})
    assert main(args) == 2
    assert "holds a localization made with other settings (evaluator_sha256)" in capsys.readouterr().err
    # a user-named external generator that is missing is refused before any context or asset is made
    aug = tmp_path / "aug"
    assert main(["bias", "augment", "--table", str(out / "localization.json"), "--llm", "embedded", "--k", "1",
                 "--generator", "embedded",
                 "--generator-model", str(tmp_path / "nothere"), "--evaluator-model", str(weights),
                 "--out", str(aug)]) == 3
    assert "nothere" in capsys.readouterr().err and not aug.exists()
    assert main(["bias", "augment", "--table", str(out), "--llm", "embedded", "--evaluator", "clip", "--dimension",
                 "geometry", "--out", str(aug)]) == 2
    assert capsys.readouterr().err.strip() == "text3d: error: --dimension geometry: evaluator 'clip' scores alignment"


def test_generator_warnings_are_said_once_each(tmp_path, capsys):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a glowing quasar\nsmall red teapot\nthe a of and\n")
    weights = tiny_evaluator_folder(tmp_path / "tiny-evaluator")
    args = ["bias", "localize", "--prompts", str(prompts), "--backend", "procedural", "--evaluator-model",
            str(weights), "--samples", "2", "--out", str(tmp_path / "loc")]
    assert main(args) == 0
    err = capsys.readouterr().err
    # the quasar's two assets both warn that no category is named; the teapot's do not
    assert err.count("no toyworld category named in 'a glowing quasar'") == 1
    assert "teapot" not in err
    # a prompt of function words only: its w_h / w_l are said to be function words
    assert err.count("'the a of and': no content word") == 1 and "'a glowing quasar': no content" not in err


def test_bad_prompts_file_is_one_line(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    code = main(["bias", "localize", "--prompts", str(empty), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0
    assert err == f"text3d: error: {empty}: contains no prompts"
    code = main(["bias", "localize", "--prompts", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "o")])
    assert code == 2 and "no such prompts file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_prompts_and_seeds_past_the_generation_limits_are_refused_in_one_line(tmp_path, capsys):
    blank = tmp_path / "blank.jsonl"
    blank.write_text('{"prompt": "red chair"}\n{"prompt": "   "}\n')
    long = tmp_path / "long.txt"
    long.write_text("red chair\n" + " ".join(["word"] * 100) + "\n")
    good = tmp_path / "good.txt"
    good.write_text("red chair\n")
    for args, needle in (([blank], f"{blank}:2: the 'prompt' field is empty"),
                         ([long], f"{long}:2 has 100 words"),
                         ([good, "--seed", "9223372036854775807", "-D", "2"], "--seed 9223372036854775807: the last")):
        code = main(["bias", "localize", "--prompts", *map(str, args), "--out", str(tmp_path / "o"),
                     "-b", "procedural"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and err.count("\n") == 0 and needle in err, err
    assert not (tmp_path / "o").exists()
