"""The training loop's shared parts: the loss log a resumed run trims, and the CPU time a checkpoint
carries across attempts."""

import json

import numpy as np
import torch

from text3d.train.loop import Checkpoint, LossLog, cosine_lr, cpu_seconds


def rows(path):
    return [(r["model"], r["step"]) for r in map(json.loads, path.read_text().splitlines())]


def test_a_resumed_log_drops_the_killed_attempts_rows_past_its_checkpoint(tmp_path):
    path = tmp_path / "train_log.jsonl"
    path.write_text("".join(json.dumps({"model": m, "step": s}) + "\n"
                            for m, s in [("vae", 0), ("vae", 50), ("dit", 0), ("dit", 25), ("dit", 50), ("dit", 75)]))
    with path.open("a") as handle:
        log = LossLog(handle, "dit", total=100, start=50)  # the checkpoint holds 50 steps: steps 50 and 75 rerun
        assert log.dropped == 2
        log.write(50, loss=0.5)
    assert rows(path) == [("vae", 0), ("vae", 50), ("dit", 0), ("dit", 25), ("dit", 50)]


def test_only_a_suffix_of_the_models_own_rows_is_dropped(tmp_path):
    path = tmp_path / "train_log.jsonl"
    lines = [("dit", 0), ("dit", 75), ("lm", 0)]  # another model ran after: nothing of "dit" is a killed tail
    path.write_text("".join(json.dumps({"model": m, "step": s}) + "\n" for m, s in lines) + '{"model": "di')
    with path.open("a") as handle:
        assert LossLog(handle, "dit", total=100, start=50).dropped == 0
        assert LossLog(handle, "lm", total=100, start=0).dropped == 0  # the torn line ends the scan
    assert path.read_text().endswith('{"model": "di')


def test_a_run_killed_before_its_first_checkpoint_leaves_no_rows_behind(tmp_path):
    path = tmp_path / "train_log.jsonl"
    lines = [("vae", 0), ("dit", 0), ("dit", 10)]
    path.write_text("".join(json.dumps({"model": m, "step": s}) + "\n" for m, s in lines))
    with path.open("a") as handle:
        assert LossLog(handle, "vae", total=10).dropped == 0  # no start given: a trainer without checkpoints
        assert LossLog(handle, "dit", total=100, start=0).dropped == 2  # started again from step 0
    assert rows(path) == [("vae", 0)]


def test_a_checkpoint_carries_the_cpu_time_of_earlier_attempts(tmp_path):
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    first = Checkpoint(tmp_path / "ck.pt", {"a": 1}, every=2, total=4, what="model", cpu_start=cpu_seconds())
    first.save_after(2, lambda: {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                 "rng": np.random.default_rng(0).bit_generator.state})
    saved = torch.load(tmp_path / "ck.pt", weights_only=False)
    torch.save({**saved, "cpu_s": 120.0}, tmp_path / "ck.pt")
    second = Checkpoint(tmp_path / "ck.pt", {"a": 1}, every=2, total=4, what="model", cpu_start=cpu_seconds())
    step, _ = second.restore(model, optimizer, np.random.default_rng(1))
    assert step == 2 and second.earlier_cpu_s == 120.0
    assert 120.0 - 1e-6 <= second.cpu_seconds() < 130.0
    fresh = Checkpoint(tmp_path / "none.pt", {"a": 1}, every=2, total=4, what="model", cpu_start=cpu_seconds())
    assert fresh.restore(model, optimizer, np.random.default_rng(1)) == (0, None) and fresh.cpu_seconds() < 10.0


def test_cosine_lr_warms_up_then_decays_to_zero():
    assert cosine_lr(0, 100, 10, 1.0) == 0.1 and cosine_lr(9, 100, 10, 1.0) == 1.0
    assert abs(cosine_lr(55, 100, 10, 1.0) - 0.5) < 1e-9 and cosine_lr(100, 100, 10, 1.0) == 0.0


def test_a_checkpoint_of_other_settings_keeps_its_runs_log_rows(tmp_path):
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    state = lambda: {"model": model.state_dict(), "optimizer": optimizer.state_dict(),  # noqa: E731
                     "rng": np.random.default_rng(0).bit_generator.state}
    Checkpoint(tmp_path / "ck.pt", {"lr": 1}, every=2, total=4, what="model").save_after(2, state)
    same = Checkpoint(tmp_path / "ck.pt", {"lr": 1}, every=2, total=4, what="model")
    same.restore(model, optimizer, np.random.default_rng(1))
    assert same.log_start == 2  # resumed: the rows from step 2 on are written again
    other = Checkpoint(tmp_path / "ck.pt", {"lr": 2}, every=2, total=4, what="model")
    assert other.restore(model, optimizer, np.random.default_rng(1)) == (0, None)
    assert other.log_start is None  # set aside with its steps: its rows stay in the log too
    fresh = Checkpoint(tmp_path / "none.pt", {"lr": 2}, every=2, total=4, what="model")
    fresh.restore(model, optimizer, np.random.default_rng(1))
    assert fresh.log_start == 0  # a run killed before its first checkpoint: its rows are dropped
