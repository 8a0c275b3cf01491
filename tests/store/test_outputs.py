"""``--overwrite`` removes only the files text3d wrote; every other file in the folder is the user's; an
output that is a link to nothing is refused."""

import json

import pytest

from text3d.errors import InputError
from text3d.store.outputs import (
    check_evaluation_output,
    check_job_output,
    clear_asset_outputs,
    clear_views,
    folder_kind,
)


def _views(folder, names, extras=()):
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_bytes(b"png")
        for extra in extras:
            (folder / extra).mkdir(exist_ok=True)
            (folder / extra / name).write_bytes(b"png")
    (folder / "cameras.json").write_text(json.dumps({"views": [{"file": n} for n in names]}))


def test_clear_views_removes_the_listed_views_and_keeps_other_files(tmp_path):
    views = tmp_path / "views"
    _views(views, ["000.png", "001.png"], extras=("depth",))
    (views / "notes.txt").write_text("notes")
    (views / "999.png").write_text("a picture of my own")
    (views / "depth" / "mine.png").write_text("mine")
    (views / "sheet.png").write_bytes(b"png")

    clear_views(views)

    assert sorted(p.name for p in views.iterdir()) == ["999.png", "depth", "notes.txt"]
    assert [p.name for p in (views / "depth").iterdir()] == ["mine.png"]


def test_clear_views_never_follows_a_name_out_of_the_folder(tmp_path):
    views = tmp_path / "views"
    _views(views, ["000.png"])
    (tmp_path / "precious.png").write_text("keep")
    (views / "cameras.json").write_text(json.dumps({"views": [{"file": "../precious.png"}, {"file": "000.png"}]}))

    clear_views(views)

    assert (tmp_path / "precious.png").read_text() == "keep"
    assert not (views / "000.png").exists()


def test_clear_asset_outputs_keeps_the_users_files_and_drops_emptied_folders(tmp_path):
    for name in ("asset.glb", "meta.json", "points.ply", "turntable.gif"):
        (tmp_path / name).write_bytes(b"x")
    _views(tmp_path / "views" / "canonical4", ["000.png", "001.png"])
    _views(tmp_path / "views" / "clip8", ["000.png"])
    (tmp_path / "views" / "canonical4" / "notes.txt").write_text("notes")
    (tmp_path / "views" / "my_edits").mkdir()
    (tmp_path / "views" / "my_edits" / "retouched.png").write_text("mine")
    (tmp_path / "views" / "hand_made").mkdir()
    (tmp_path / "views" / "hand_made" / "000.png").write_text("no cameras.json: not a render")

    clear_asset_outputs(tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["views"]
    assert sorted(p.name for p in (tmp_path / "views").iterdir()) == ["canonical4", "hand_made", "my_edits"]
    assert [p.name for p in (tmp_path / "views" / "canonical4").iterdir()] == ["notes.txt"]
    assert (tmp_path / "views" / "my_edits" / "retouched.png").read_text() == "mine"
    assert (tmp_path / "views" / "hand_made" / "000.png").exists()


def test_clear_asset_outputs_removes_a_views_folder_it_emptied(tmp_path):
    (tmp_path / "meta.json").write_text("{}")
    _views(tmp_path / "views" / "canonical4", ["000.png"])

    clear_asset_outputs(tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_replace_asset_outputs_moves_the_staged_asset_in_and_keeps_the_users_files(tmp_path):
    from text3d.store.outputs import replace_asset_outputs, staging_folder

    (tmp_path / "meta.json").write_text('{"prompt": "old"}')
    (tmp_path / "asset.glb").write_bytes(b"old")
    _views(tmp_path / "views" / "clip8", ["000.png"])
    (tmp_path / "readme.txt").write_text("mine")
    stale = tmp_path / ".staging-dead.tmp"
    stale.mkdir()
    (stale / "asset.glb").write_bytes(b"half")

    staged = staging_folder(tmp_path)
    assert not stale.exists() and staged.parent == tmp_path
    (staged / "views" / "canonical4").mkdir(parents=True)
    (staged / "views" / "canonical4" / "000.png").write_bytes(b"new view")
    (staged / "asset.glb").write_bytes(b"new")
    (staged / "meta.json").write_text('{"prompt": "new"}')
    replace_asset_outputs(staged, tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["asset.glb", "meta.json", "readme.txt", "views"]
    assert (tmp_path / "asset.glb").read_bytes() == b"new"
    assert json.loads((tmp_path / "meta.json").read_text())["prompt"] == "new"
    assert [p.name for p in (tmp_path / "views").iterdir()] == ["canonical4"]
    assert (tmp_path / "readme.txt").read_text() == "mine"


def test_an_output_that_is_a_link_to_nothing_is_refused_in_one_line(tmp_path):
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "nowhere")
    assert folder_kind(link) == "dangling"
    for check in (lambda: check_evaluation_output(link, tmp_path / "run"),
                  lambda: check_job_output(link, ("*.json",), "a training run")):
        with pytest.raises(InputError, match="out: is a symbolic link to a path that does not exist"):
            check()
    assert not (tmp_path / "nowhere").exists()


def test_a_file_output_that_is_a_symbolic_link_to_nothing_is_refused(tmp_path):
    from text3d.store.outputs import check_file_output

    link = tmp_path / "dang.ply"
    link.symlink_to(tmp_path / "nothere.ply")
    with pytest.raises(InputError, match="dang.ply: is a symbolic link to a path that does not exist"):
        check_file_output(link, overwrite=True)
    check_file_output(tmp_path / "new.ply")  # a new name passes


def test_a_users_own_file_with_a_marker_name_does_not_make_the_folder_text3ds(tmp_path):
    """meta.json, cameras.json and metrics.json mark a folder only as text3d's JSON; report.md marks nothing
    (an --overwrite of a folder taken for an earlier result would replace the user's files)."""
    from text3d.store.outputs import check_asset_output, check_views_output

    for name, theirs, ours, kind in (
            ("meta.json", {"author": "me"}, {"prompt": "red chair", "backend": "procedural"}, "asset"),
            ("cameras.json", {"views": 4}, {"protocol": "canonical4", "views": []}, "views"),
            ("metrics.json", {"score": 1}, {"protocol": {}, "n_items": 2}, "evaluation")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / name).write_text(json.dumps(theirs))
        (folder / "points.ply").write_text("my scan")
        assert folder_kind(folder) == "other"
        (folder / name).write_text("{torn")
        assert folder_kind(folder) == "other"
        (folder / name).write_text(json.dumps(ours))
        assert folder_kind(folder) == kind
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "report.md").write_text("my own report")
    assert folder_kind(tmp_path / "docs") == "other"
    for check in (lambda out: check_asset_output(out, overwrite=True), lambda out: check_views_output(out, True),
                  lambda out: check_evaluation_output(out, tmp_path / "run", overwrite=True)):
        with pytest.raises(InputError, match="holds other files"):
            check(tmp_path / "docs")


def test_a_job_folder_with_a_state_file_is_the_jobs_only_when_that_file_is(tmp_path):
    state = ("settings.json", ("backend", "evaluator"))
    (tmp_path / "index.html").write_text("<h1>my homepage</h1>")
    (tmp_path / "settings.json").write_text('{"theme": "dark"}')
    with pytest.raises(InputError, match="holds files that are not a localization run's .'index.html', 'settings"):
        check_job_output(tmp_path, ("settings.json", "index.html"), "a localization run", state=state)
    check_job_output(tmp_path, ("settings.json", "index.html"), "a localization run")  # known names alone: taken
    (tmp_path / "settings.json").write_text('{"backend": "procedural", "evaluator": "embedded-hyperscore"}')
    check_job_output(tmp_path, ("settings.json", "index.html"), "a localization run", state=state)
