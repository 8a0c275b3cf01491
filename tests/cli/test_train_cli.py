"""``text3d train``'s options are made from the trainers' config dataclasses: same flags, ranges,
defaults and help, and the values given on the command line reach the trainer's config."""

import dataclasses
import json
import re
import shlex
from pathlib import Path

import pytest
import typer

import text3d
import text3d.train.evaluator as evaluator_training
import text3d.train.image_adapter as image_adapter
import text3d.train.run_aligner as run_aligner
import text3d.train.run_encoders as run_encoders
import text3d.train.run_generator as run_generator
from tests.cli.test_train_aligner_cli import range_suffix
from text3d.cli import _register_commands, app, main
from text3d.train.config import (
    ENCODER_EVALUATE_N,
    GENERATOR_CHECK_N,
    RUNTIME,
    AlignerTrainConfig,
    EncoderTrainConfig,
    GeneratorTrainConfig,
    ImageAdapterTrainConfig,
    option_fields,
    reproduce_command,
)
from text3d.train.evaluator_config import EvaluatorTrainConfig
from text3d.train.prd_config import PRDTrainConfig

# generator: --finetune PAIRS (with --finetune-steps, --replay, --model BASE) fine-tunes instead of training
RUN_OPTIONS = {"encoders": {"out", "evaluate", "models", "wait"},
               "generator": {"out", "check", "wait", "finetune", "finetune_steps", "replay", "base"},
               "image-adapter": {"out", "wait"}}
RUN_DEFAULTS = {"encoders": ("evaluate", ENCODER_EVALUATE_N), "generator": ("check", GENERATOR_CHECK_N),
                "image-adapter": ("wait", False)}


def command_params(name):
    _register_commands()
    group = typer.main.get_command(app).commands["train"]
    return {p.name: p for p in group.commands[name].params}


@pytest.mark.parametrize("name,config_type", [("encoders", EncoderTrainConfig), ("generator", GeneratorTrainConfig),
                                              ("image-adapter", ImageAdapterTrainConfig)])
def test_cli_options_are_the_config_fields(name, config_type):
    params = command_params(name)
    fields = option_fields(config_type)
    assert set(params) == {f.name for f in fields} | RUN_OPTIONS[name]
    defaults = config_type()
    for field in fields:
        param = params[field.name]
        assert param.default == getattr(defaults, field.name), field.name
        assert param.opts == [field.metadata["flag"]] and param.help == field.metadata["doc"] + (
            range_suffix(field) if isinstance(field.default, float) else "")
        if isinstance(field.default, float):  # floats: range checked by a callback that also refuses NaN
            assert (param.min, param.max) == (None, None) and param.callback is not None, field.name
        else:
            assert (param.min, param.max) == (field.metadata["low"], field.metadata["high"]), field.name
    option, default = RUN_DEFAULTS[name]
    assert params[option].default == default


@pytest.fixture
def captured(monkeypatch):
    calls = []
    monkeypatch.setattr(run_generator, "train_generator", lambda out, config, check_n: calls.append((config, check_n))
                        or {"seconds": {}})
    monkeypatch.setattr(run_encoders, "train_encoders",
                        lambda out, config, evaluate_n, models: calls.append((config, evaluate_n, models))
                        or {"seconds": 0})
    monkeypatch.setattr(run_aligner, "train_aligner", lambda out, config: calls.append((config,)) or {"seconds": {}})
    monkeypatch.setattr(image_adapter, "adapt_generator", lambda out, config: calls.append((config,)) or {})
    monkeypatch.setattr(evaluator_training, "train_evaluator", lambda out, config: calls.append((config,)) or {})
    return calls


def test_command_line_values_reach_the_generator_config(tmp_path, captured):
    assert main(["train", "generator", "--out", str(tmp_path / "g"), "--steps", "7", "--items", "9",
                 "--device", "cpu", "--check", "0"]) == 0
    assert captured == [(GeneratorTrainConfig(steps=7, items=9, device="cpu"), 0)]


def test_command_line_values_reach_the_encoder_config(tmp_path, captured):
    assert main(["train", "encoders", "--out", str(tmp_path / "e"), "--point-steps", "5", "--seed", "3",
                 "--models", "point"]) == 0
    assert captured == [(EncoderTrainConfig(point_steps=5, seed=3), ENCODER_EVALUATE_N, ("point",))]


@pytest.mark.parametrize("config", [GeneratorTrainConfig(seed=4, steps=11, batch=8),
                                    EncoderTrainConfig(items=90, point_steps=3),
                                    AlignerTrainConfig(stage=2, steps=5, freeze_soft=True),
                                    AlignerTrainConfig(items=7),
                                    ImageAdapterTrainConfig(depth=3, steps=9, base="some/folder"),
                                    EvaluatorTrainConfig(steps=4, normal_stats=False, back_normals=False),
                                    EvaluatorTrainConfig(items=30, stated_alignment=False, see_through=True)])
def test_the_cards_reproduce_command_gives_the_same_config(tmp_path, captured, config):
    name = {GeneratorTrainConfig: "generator", EncoderTrainConfig: "encoders", AlignerTrainConfig: "aligner",
            ImageAdapterTrainConfig: "image-adapter", EvaluatorTrainConfig: "evaluator"}[type(config)]
    if isinstance(config, EvaluatorTrainConfig):  # see_through has no flag: it stays at its default
        config = dataclasses.replace(config, see_through=False)
    command = reproduce_command(f"text3d train {name}", config).replace("DIR", str(tmp_path / "o"))
    assert main(shlex.split(command)[1:]) == 0
    assert captured[0][0] == dataclasses.replace(config, device=None, workers=0)


def test_a_switch_that_is_on_by_default_has_an_off_form(tmp_path, captured):
    assert main(["train", "evaluator", "--out", str(tmp_path / "e"), "--no-back-normals", "--no-stated-alignment"]) == 0
    assert captured[0][0] == EvaluatorTrainConfig(back_normals=False, stated_alignment=False)
    assert reproduce_command("x", captured[0][0]).endswith("--no-back-normals --no-stated-alignment --steps 2500 "
                                                           "--batch 32 --lr 0.001 --text-swap 0.0 --twin-weight 0.0 "
                                                           "--geometry-branch 0 --normal-stats --grid 2 "
                                                           "--width 128 --depth 2")


@pytest.mark.parametrize("folder", ["generator", "image-encoder", "point-encoder", "evaluator"])
def test_the_shipped_cards_reproduce_command_gives_the_settings_of_their_weights(tmp_path, captured, folder):
    weights = Path(text3d.__file__).parent / "weights" / folder
    command = re.search(r"Reproduce: `(text3d train [^`]*)`", (weights / "README.md").read_text()).group(1)
    assert main(shlex.split(command.replace("DIR", str(tmp_path / "o")))[1:]) == 0
    recorded = json.loads((weights / "config.json").read_text())["training"]["config"]
    runtime = {f.name for f in dataclasses.fields(captured[0][0]) if f.metadata["stage"] == RUNTIME}
    assert {k: v for k, v in dataclasses.asdict(captured[0][0]).items() if k not in runtime} == \
        {k: v for k, v in recorded.items() if k not in runtime}  # how it ran (workers, device) is not what it trained


def test_the_shipped_generators_adapter_command_gives_the_settings_of_its_adapter(tmp_path, captured):
    weights = Path(text3d.__file__).parent / "weights" / "generator"
    card = (weights / "README.md").read_text()
    line = re.search(r"Reproduce: (`text3d train image-adapter .*)", card).group(1)
    commands = re.findall(r"`(text3d train image-adapter [^`]*)`", line)
    # the last command is the shipped adapter's; each one before it, the run its --init started from
    records = [json.loads((weights / "config.json").read_text())["training"]["image_adapter"]]
    while records[0].get("init"):
        records.insert(0, records[0]["init"]["record"])
    assert len(commands) == len(records)
    for command, record in zip(commands, records):
        captured.clear()
        args = shlex.split(command.replace("RUN", str(tmp_path / "RUN")).replace("DIR", str(tmp_path / "o")))
        assert main(args[1:]) == 0
        got, expected = dataclasses.asdict(captured[0][0]), record["config"]
        if expected.get("init"):  # a path on the machine that trained it; the card names the previous run's folder
            assert got.pop("init").endswith("/generator") and expected.pop("init")
        assert got == expected


def test_an_evaluator_width_the_heads_cannot_split_is_refused_in_one_line(tmp_path, capsys):
    code = main(["train", "evaluator", "--out", str(tmp_path / "ev"), "--width", "30", "--steps", "2", "--items", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--width 30" in err[0], err
    assert not (tmp_path / "ev").exists()


def test_turbo_plane_channels_leave_room_for_the_texture_channels_or_are_refused_in_one_line(tmp_path, capsys):
    code = main(["train", "turbo", "--out", str(tmp_path / "t"), "--plane-channels", "4", "--steps", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--plane-channels" in err[0], err
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("name,config_type", [("aligner", AlignerTrainConfig), ("evaluator", EvaluatorTrainConfig),
                                              ("turbo", PRDTrainConfig)])
def test_float_settings_refuse_nan_infinity_and_values_out_of_range_in_one_line(tmp_path, capsys, name, config_type):
    floats = [f for f in option_fields(config_type) if isinstance(f.default, float)]
    assert floats
    for field in floats:
        bad = ["nan", "inf", "1e400"] + ([] if field.metadata["high"] is None else [str(field.metadata["high"] + 1)])
        bad += [str(field.metadata["low"])] if field.metadata["low_open"] else []  # a learning rate of 0
        for value in bad:
            code = main(["train", name, "--out", str(tmp_path / "out"), field.metadata["flag"], value])
            err = capsys.readouterr().err.strip().splitlines()
            reason = {"nan": "nan is not a number", "inf": "must be a finite number",
                      "1e400": "too large for a float"}.get(value, "is outside")
            assert code == 2 and len(err) == 1 and field.metadata["flag"] in err[0] and reason in err[0], err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["turbo", "evaluator", "mvdiffusion", "generator"])
def test_an_unknown_or_missing_device_is_refused_in_one_line_before_any_work(tmp_path, capsys, name):
    for device, reason in (("bogus", "not a device"), ("cuda:99", "")):
        code = main(["train", name, "--out", str(tmp_path / "t"), "--device", device])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and f"device {device!r}" in err[0] and reason in err[0], err
        assert not (tmp_path / "t").exists()


def test_a_cpu_only_trainer_says_that_another_device_is_not_used(caplog):
    from text3d.train.config import TrainConfig, warn_cpu_only

    warn_cpu_only(TrainConfig(device="cpu"), "train turbo")
    assert not caplog.records
    warn_cpu_only(TrainConfig(device="cuda"), "train turbo")
    assert "train turbo trains on the CPU only; --device cuda is not used" in caplog.text


def test_a_finished_encoder_trained_otherwise_is_not_replaced(tmp_path, captured, capsys):
    import dataclasses

    from text3d.train.run_encoders import encoder_folder

    folder = tmp_path / "e" / encoder_folder("point")  # a finished point encoder of 5 steps
    folder.mkdir(parents=True)
    recorded = dataclasses.asdict(EncoderTrainConfig(point_steps=5))
    (folder / "config.json").write_text(json.dumps({"training": {"config": recorded}}))
    args = ["train", "encoders", "--out", str(tmp_path / "e"), "--models", "point"]
    assert main([*args, "--point-steps", "7"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds the point encoder trained with other settings (point_steps differ)" in err[0]
    assert captured == []
    assert main([*args, "--point-steps", "5", "--steps", "9"]) == 0  # the image encoder's settings do not matter
    assert captured == []  # the same settings: nothing is trained again (it would replace the finished one)
    assert "already holds the point encoder trained with these settings" in capsys.readouterr().err
    assert main(["train", "encoders", "--out", str(tmp_path / "e"), "--point-steps", "5"]) == 0
    assert captured[-1][2] == ("image",)  # image + point asked: only the unfinished image encoder is trained


def test_a_finished_image_adapter_trained_otherwise_is_not_replaced(tmp_path, captured, capsys):
    from text3d.generators.backends.embedded import GENERATOR_FOLDER

    folder = tmp_path / "a" / GENERATOR_FOLDER  # a generator with an adapter of 5 steps
    folder.mkdir(parents=True)
    recorded = dataclasses.asdict(ImageAdapterTrainConfig(steps=5))
    (folder / "config.json").write_text(json.dumps({"training": {"image_adapter": {"config": recorded}}}))
    args = ["train", "image-adapter", "--out", str(tmp_path / "a")]
    assert main([*args, "--steps", "7"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds a generator trained with other settings (steps differ)" in err[0]
    assert captured == []
    assert main([*args, "--steps", "5"]) == 0
    assert captured == []  # the same settings: the finished generator is kept, nothing is trained


def test_a_finished_aligner_is_not_trained_again_so_its_calibration_stays(tmp_path, captured, capsys):
    from text3d.train.run_aligner import weights_folder

    out = tmp_path / "al"
    folder = weights_folder(out, AlignerTrainConfig().stage)
    folder.mkdir(parents=True)
    document = {"training": {"config": dataclasses.asdict(AlignerTrainConfig(steps=5))},
                "sampling": {"steps": 1, "token_scale": {"cls": 1.1}}, "quality": {"cos": 0.5}}
    (folder / "config.json").write_text(json.dumps(document))
    assert main(["train", "aligner", "--out", str(out), "--steps", "5"]) == 0
    captured_io = capsys.readouterr()
    assert captured == [] and json.loads(captured_io.out) == {"cos": 0.5}
    assert "already holds an aligner trained with these settings" in captured_io.err
    assert json.loads((folder / "config.json").read_text()) == document
    # trained with its checks off: no quality recorded, so the training's figures are printed, not {}
    document["quality"], document["training"]["train_cpu_minutes"] = {}, 1.5
    (folder / "config.json").write_text(json.dumps(document))
    assert main(["train", "aligner", "--out", str(out), "--steps", "5"]) == 0
    captured_io = capsys.readouterr()
    assert json.loads(captured_io.out) == {"train_cpu_minutes": 1.5}
    assert "its quality was not measured" in captured_io.err


def test_an_interrupted_generator_teacher_run_resumes_with_its_teacher_assets(tmp_path, monkeypatch):
    import text3d.train.prd as prd

    calls = []
    monkeypatch.setattr(prd, "train_prd", lambda out, config: calls.append(config) or {})
    out = tmp_path / "t"
    (out / "teacher_assets").mkdir(parents=True)  # what a killed `--signal generator` run leaves
    (out / "prd.pt").write_bytes(b"")
    (out / "train_log.jsonl").write_text("")
    assert main(["train", "turbo", "--out", str(out), "--signal", "generator"]) == 0
    assert calls and calls[0].signal == "generator"
