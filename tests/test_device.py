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
