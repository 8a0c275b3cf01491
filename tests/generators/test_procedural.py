import json

import numpy as np

from text3d.assets.color import hex_to_srgb, srgb_to_linear
from text3d.cli import main
from text3d.data.toyworld.objects import part_color
from text3d.data.toyworld.vocabulary import PALETTE
from text3d.generators import Condition, create_generator


def dominant_palette_color(asset) -> str:
    """Palette color nearest to the area-weighted mean... by vote over faces."""
    colors = asset.vertex_colors[asset.faces[:, 0], :3]
    tri = asset.vertices[asset.faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    names = list(PALETTE)
    refs = np.stack([srgb_to_linear(hex_to_srgb(PALETTE[n])) for n in names])
    nearest = np.argmin(((colors[:, None] - refs[None]) ** 2).sum(-1), axis=1)
    votes = np.bincount(nearest, weights=area, minlength=len(names))
    return names[int(np.argmax(votes))]


def test_builds_what_the_prompt_names():
    gen = create_generator("procedural")
    out = gen.generate(Condition("small blue sailboat"), seed=0)
    assert out.info["category"] == "sailboat" and out.info["matched_by"] == "name"
    assert out.info["attributes"]["main_color"] == "blue" and out.info["attributes"]["size"] == "small"
    red = gen.generate(Condition("red ceramic mug"), seed=4)
    assert red.info["category"] == "mug" and red.info["attributes"]["material"] == "ceramic"
    assert dominant_palette_color(red.asset) == "red" or np.allclose(
        red.asset.vertex_colors[0, :3], part_color("red", "ceramic"))
    assert not out.warnings


def test_unknown_category_warns_and_still_builds():
    out = create_generator("procedural").generate(Condition("wooden rowing canoe"), seed=0)
    assert out.info["matched_by"] == "nearest" and out.info["category"] == "sailboat"
    assert "nearest" in out.warnings[0] and "sailboat" in out.warnings[0]
    assert out.asset.n_faces > 0


def test_cli_writes_the_asset_folder(tmp_path, capsys):
    code = main(["generate", "small blue sailboat", "--backend", "procedural", "--augment", "none",
                 "--out", str(tmp_path / "boat"), "--resolution", "64"])
    assert code == 0, capsys.readouterr().err
    folder = tmp_path / "boat"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["prompt"] == "small blue sailboat" and meta["backend"] == "procedural" and meta["seed"] == 0
    assert set(meta["timings_s"]) >= {"generate", "export", "render"}
    assert len(list((folder / "views" / "canonical4").glob("*.png"))) == 4
    assert (folder / "asset.glb").exists() and (folder / "turntable.gif").exists()


def test_cli_unknown_category_message(tmp_path, capsys):
    code = main(["generate", "vintage brass telescope", "--backend", "procedural", "--augment", "none",
                 "--out", str(tmp_path / "t"), "--resolution", "32", "--no-gif"])
    err = capsys.readouterr().err
    assert code == 0 and "nearest" in err and (tmp_path / "t" / "asset.glb").exists()


def test_cli_rejects_zero_candidates_in_one_line(tmp_path, capsys):
    code = main(["generate", "small blue sailboat", "--backend", "procedural", "--candidates", "0",
                 "--out", str(tmp_path / "boat")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "'--candidates'" in err
    assert not (tmp_path / "boat").exists()


def test_cli_refuses_an_option_the_backend_does_not_have_before_writing(tmp_path, capsys):
    code = main(["generate", "small blue sailboat", "--backend", "procedural", "--candidates", "2",
                 "--out", str(tmp_path / "boat")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1
    assert "'procedural'" in err and "'candidates'" in err
    assert not (tmp_path / "boat").exists()


def test_embedded_cli_records_the_chosen_candidate(tmp_path, capsys):
    code = main(["generate", "small blue sailboat", "--candidates", "2", "--seed", "3",
                 "--out", str(tmp_path / "boat"), "--resolution", "32", "--no-gif"])
    assert code == 0, capsys.readouterr().err
    chosen = json.loads((tmp_path / "boat" / "meta.json").read_text())["info"]["candidates"]
    assert chosen["count"] == 2 and chosen["category"] == "sailboat" and chosen["chosen_seed"] in (3, 4)


def test_settings_it_cannot_use_are_reported_and_a_bad_device_is_refused():
    import pytest

    from text3d.errors import InputError

    plain = create_generator("procedural").generate(Condition("red chair"), seed=0)
    assert plain.warnings == []
    out = create_generator("procedural", model="/somewhere/weights").generate(Condition("red chair"), steps=3, cfg=2.0)
    assert any("model '/somewhere/weights' is unused" in w for w in out.warnings)
    assert any("steps 3 is unused" in w for w in out.warnings) and any("cfg 2.0 is unused" in w for w in out.warnings)
    with pytest.raises(InputError, match="device 'bogus'"):
        create_generator("procedural", device="bogus")
