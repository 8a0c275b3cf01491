"""``text3d train aligner``: its options are the fields of :class:`AlignerTrainConfig`, the values
reach the trainer, the card's command reproduces the config, and a bad value is refused in one line."""

import math
import shlex

import pytest
import typer

import text3d.train.run_aligner as run_aligner
from text3d.cli import _register_commands, app, main
from text3d.cli._options import range_text
from text3d.train.config import AlignerTrainConfig, option_fields, reproduce_command


def command_params():
    _register_commands()
    group = typer.main.get_command(app).commands["train"]
    return {p.name: p for p in group.commands["aligner"].params}


def range_suffix(field):
    """What a float option's help ends with: its range (unbounded ends as ±inf)."""
    low, high = field.metadata["low"], field.metadata["high"]
    shown = range_text(-math.inf if low is None else low, math.inf if high is None else high,
                       field.metadata["low_open"])
    return f" Range {shown}."


def test_cli_options_are_the_config_fields():
    params = command_params()
    fields = option_fields(AlignerTrainConfig)
    assert set(params) == {f.name for f in fields} | {"out", "wait"}
    defaults = AlignerTrainConfig()
    for field in fields:
        param = params[field.name]
        assert param.default == getattr(defaults, field.name), field.name
        assert param.opts == [field.metadata["flag"]] and param.help == field.metadata["doc"] + (
            range_suffix(field) if isinstance(field.default, float) else "")
        if isinstance(field.default, float):  # floats: range checked by a callback that also refuses NaN
            assert (param.min, param.max) == (None, None) and param.callback is not None, field.name
        else:
            assert (param.min, param.max) == (field.metadata["low"], field.metadata["high"]), field.name


@pytest.fixture
def captured(monkeypatch):
    calls = []
    monkeypatch.setattr(run_aligner, "train_aligner", lambda out, config: calls.append((out, config)) or {"stage": 1})
    return calls


def test_command_line_values_reach_the_aligner_config(tmp_path, captured):
    assert main(["train", "aligner", "--out", str(tmp_path / "a"), "--stage", "2", "--init", str(tmp_path / "s1"),
                 "--steps", "7", "--soft-tokens", "4", "--patch-weight", "0.5", "--device", "cpu"]) == 0
    assert captured == [(tmp_path / "a", AlignerTrainConfig(stage=2, init=str(tmp_path / "s1"), steps=7,
                                                           soft_tokens=4, patch_weight=0.5, device="cpu"))]


@pytest.mark.parametrize("config", [AlignerTrainConfig(seed=3, steps=11, width=64, heads=2),
                                    AlignerTrainConfig(stage=2, init="/runs/stage one", lr=5.6e-4)])
def test_the_cards_reproduce_command_gives_the_same_config(tmp_path, captured, config):
    command = reproduce_command("text3d train aligner", config).replace("DIR", str(tmp_path / "o"))
    assert main(shlex.split(command)[1:]) == 0
    assert captured[0][1] == config


@pytest.mark.parametrize("args,message", [
    (["--stage", "3"], "--stage"),
    (["--drop-prob", "1.5"], "--drop-prob"),
    (["--width", "30", "--heads", "4"], "--width 30 / --heads 4"),
    (["--stage", "2", "--init", "{tmp}/missing"], "--init"),
])
def test_a_bad_value_is_refused_in_one_line(tmp_path, capsys, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["train", "aligner", "--out", str(tmp_path / "a"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "a").exists()  # refused: no output folder is left behind, not even its lock file


def test_a_finished_aligner_trained_otherwise_is_not_replaced(tmp_path, capsys, captured):
    import dataclasses
    import json

    folder = run_aligner.weights_folder(tmp_path / "a", 1)  # a finished stage-1 aligner of 11 steps
    folder.mkdir(parents=True)
    recorded = dataclasses.asdict(AlignerTrainConfig(steps=11))
    (folder / "config.json").write_text(json.dumps({"training": {"config": recorded}}))
    assert main(["train", "aligner", "--out", str(tmp_path / "a"), "--steps", "7"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds an aligner trained with other settings (steps differ)" in err[0]
    assert captured == []
    assert main(["train", "aligner", "--out", str(tmp_path / "a"), "--steps", "11"]) == 0  # the same settings
    assert main(["train", "aligner", "--out", str(tmp_path / "a"), "--stage", "2", "--init", str(folder),
                 "--steps", "7"]) == 0  # stage 2 writes another folder
