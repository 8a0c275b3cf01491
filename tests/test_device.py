"""``text3d.device``: the device a user names is used or refused in one line."""

import pytest
import torch

from text3d.device import resolve_device
from text3d.errors import InputError


def test_a_named_device_is_used_or_refused_in_one_line(monkeypatch):
    monkeypatch.delenv("TEXT3D_DEVICE", raising=False)
    assert resolve_device("cpu") == torch.device("cpu")
    for name, says in (("bogus", "not a device"), ("tpu", "not a device"), ("meta", "not supported here")):
        with pytest.raises(InputError, match=f"^device '{name}': {says}; use cpu, cuda, cuda:N or mps$"):
            resolve_device(name)
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available"):
            resolve_device("cuda:0")


def test_the_console_script_lets_idle_openmp_threads_sleep_unless_the_user_says_otherwise():
    """Spinning OpenMP threads beside another busy process cost the embedded generator 10× per asset
    (benchmarks/bench_threads.py); the console script sets the policy for itself and its children."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    run = [sys.executable, "-m", "text3d", "info"]
    shown = subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout
    assert "idle OpenMP threads sleep" in shown
    shown = subprocess.run(run, env={**env, "OMP_WAIT_POLICY": "ACTIVE"}, capture_output=True, text=True,
                           check=True).stdout
    assert "idle OpenMP threads spin" in shown
