"""An aligner folder's ``"sampling"`` block is checked when read: an edited config.json is one line."""

import json

import pytest

from text3d.align.sampling import SAMPLING, sampling_settings
from text3d.errors import InputError


def folder_with(tmp_path, sampling):
    (tmp_path / "config.json").write_text(json.dumps({"model": {}, "sampling": sampling}))
    return tmp_path


@pytest.mark.parametrize("sampling, says", [
    ({"steps": "abc"}, '"sampling".steps = "abc": give an integer in [1, 1000]'),
    ({"steps": 0}, '"sampling".steps = 0: give an integer'),
    ({"steps": 2.5}, '"sampling".steps = 2.5'),
    ({"cfg": "nan"}, '"sampling".cfg = "nan": give a number in [0.0, 50.0]'),
    ({"temperature": -5}, '"sampling".temperature = -5'),
    ({"candidates": True}, '"sampling".candidates = true'),
    ({"token_scale": {"cls": -1}}, '"sampling".token_scale'),
    ({"token_scale": {"tokens": 1.0}}, '"sampling".token_scale'),
    ({"group_cfg": {"cls": 80}}, "cls = 80 is outside [0, 50]"),
    ({"group_cfg": [1, 2]}, '"sampling".group_cfg'),
])
def test_a_bad_sampling_value_is_one_line_naming_the_file_and_setting(tmp_path, sampling, says):
    with pytest.raises(InputError) as err:
        sampling_settings(folder_with(tmp_path, sampling))
    assert says in str(err.value) and str(tmp_path / "config.json") in str(err.value) and "\n" not in str(err.value)


def test_good_values_are_kept_and_bookkeeping_keys_ignored(tmp_path):
    block = {"steps": 16, "cfg": 3.0, "temperature": 0.6, "token_scale": {"cls": 0.77, "patches": 0.89},
             "chosen_on": {"n": 200}, "weights_sha256": "fd94"}
    settings = sampling_settings(folder_with(tmp_path, block))
    assert settings["steps"] == 16 and settings["temperature"] == 0.6 and settings["token_scale"]["cls"] == 0.77
    assert set(settings) == set(SAMPLING)


def test_a_model_block_the_network_cannot_be_built_from_is_one_line(tmp_path):
    import shutil
    from pathlib import Path

    import text3d
    from text3d.align.sampling import load_aligner

    folder = tmp_path / "aligner"
    shutil.copytree(Path(text3d.__file__).parent / "weights" / "aligner-stage1", folder)
    document = json.loads((folder / "config.json").read_text())
    document["model"]["width"] = 100  # 4 heads of 25: 2D RoPE needs a multiple of 4
    (folder / "config.json").write_text(json.dumps(document))
    with pytest.raises(InputError, match=r"config\.json: model: 2D RoPE needs a head dimension divisible by 4"):
        load_aligner(folder)
