"""Model folders: single file, transformers-style shards + index, clear error when absent."""

import json

import pytest
import torch

from text3d.errors import InputError, ModelNotAvailableError
from text3d.nn.checkpoint import load_folder, resolve_model_folder, save_folder, weight_files


def _state():
    g = torch.Generator().manual_seed(0)
    return {f"layer{i}.weight": torch.randn(64, 64, generator=g).half() for i in range(5)}


def test_small_state_is_one_file_and_round_trips(tmp_path):
    state = _state()
    save_folder(tmp_path, state, {"width": 64}, "# card")
    assert [p.name for p in weight_files(tmp_path)] == ["model.safetensors"]
    loaded, config = load_folder(tmp_path)
    assert config == {"width": 64} and all(torch.equal(loaded[k], state[k].float()) for k in state)
    # weights get the permissions config.json gets (safetensors alone writes 0600: unreadable to others)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes["model.safetensors"] == modes["config.json"] == modes["README.md"]


def test_large_state_is_sharded_with_an_index_and_round_trips(tmp_path):
    state = _state()  # 5 tensors of 8 KiB
    save_folder(tmp_path, state, {"width": 64}, max_shard_bytes=20_000)
    names = [p.name for p in weight_files(tmp_path)]
    assert names == [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    assert not (tmp_path / "model.safetensors").exists()
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert index["metadata"]["total_size"] == 5 * 64 * 64 * 2 and set(index["weight_map"]) == set(state)
    assert all(p.stat().st_size < 20_000 + 1_000 for p in weight_files(tmp_path))
    loaded, _ = load_folder(tmp_path)
    assert all(torch.equal(loaded[k], state[k].float()) for k in state)
    assert resolve_model_folder(tmp_path, "generator") == tmp_path
    # re-saving small removes the shards and the index
    save_folder(tmp_path, {"a": torch.ones(2)}, {})
    assert [p.name for p in weight_files(tmp_path)] == ["model.safetensors"]
    assert not list(tmp_path.glob("model-*")) and not (tmp_path / "model.safetensors.index.json").exists()


def test_missing_weights_name_the_folder(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelNotAvailableError, match=str(tmp_path)):
        resolve_model_folder(tmp_path, "generator")


@pytest.mark.parametrize("damage, needle", [
    (lambda f: (f / "config.json").write_text("{width: 64"), "config.json: not valid JSON"),
    (lambda f: (f / "model-00002-of-00003.safetensors").unlink(),
     "model-00002-of-00003.safetensors: weight file missing"),
    (lambda f: (f / "model-00001-of-00003.safetensors").write_bytes(b"\x05\x00garbage"), "not a readable safetensors"),
    (lambda f: (f / "model.safetensors.index.json").write_text("[]"), "unreadable shard index"),
])
def test_a_damaged_folder_is_a_one_line_error_naming_the_file(tmp_path, damage, needle):
    save_folder(tmp_path, _state(), {"width": 64}, max_shard_bytes=20_000)
    damage(tmp_path)
    with pytest.raises(InputError, match=needle) as info:
        load_folder(tmp_path)
    assert "\n" not in str(info.value)
