"""``text3d train lm``: an unknown size is a one-line usage error that writes nothing, and each shipped
card's reproduce command gives the settings its weights were trained with."""

import dataclasses
import json
import re
import shlex

import pytest

import text3d.train.run_lm as run_lm
from text3d.cli import main
from text3d.nn.checkpoint import WEIGHTS_ROOT


def test_an_unknown_size_is_a_one_line_error(tmp_path, capsys):
    assert main(["train", "lm", "--size", "xl", "--out", str(tmp_path / "o")]) == 2
    error = capsys.readouterr().err.strip()
    assert "--size 'xl'" in error and "\n" not in error
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("size", ["s", "m", "l"])
def test_the_shipped_cards_reproduce_command_gives_the_settings_of_their_weights(tmp_path, monkeypatch, size):
    calls = []
    monkeypatch.setattr(run_lm, "train_lm_size", lambda out, config, evaluate_n, dev_n: calls.append(config) or {})
    folder = WEIGHTS_ROOT / f"toyworld-lm-{size}"
    command = re.search(r"Reproduce: `(text3d train [^`]*)`", (folder / "README.md").read_text()).group(1)
    assert main(shlex.split(command.replace("DIR", str(tmp_path / "o")))[1:]) == 0
    assert dataclasses.asdict(calls[0]) == json.loads((folder / "training.json").read_text())["config"]


def test_a_finished_size_trained_otherwise_is_not_replaced(tmp_path, monkeypatch, capsys):
    from text3d.train.lm_config import LMTrainConfig

    calls = []
    monkeypatch.setattr(run_lm, "train_lm_size", lambda out, config, evaluate_n, dev_n: calls.append(config) or {})
    folder = tmp_path / "o" / run_lm.lm_folder("s")  # a finished size s of 5 steps
    folder.mkdir(parents=True)
    recorded = dataclasses.asdict(LMTrainConfig(steps=5).resolved())
    (folder / run_lm.TRAINING_FILE).write_text(json.dumps({"config": recorded}))
    assert main(["train", "lm", "--out", str(tmp_path / "o"), "--steps", "7"]) == 2
    error = capsys.readouterr().err.strip()
    assert "holds a caption LM of size s trained with other settings (steps differ)" in error and "\n" not in error
    assert calls == []
    assert main(["train", "lm", "--out", str(tmp_path / "o"), "--steps", "5"]) == 0  # the same settings
    assert main(["train", "lm", "--out", str(tmp_path / "o"), "--size", "m", "--steps", "7"]) == 0  # another size
    assert len(calls) == 2
