"""``text3d eval`` and ``text3d eval compare`` end to end on tiny run folders and models."""

import json

import pytest

from tests.encoders.tiny_models import save_tiny_clip, save_tiny_dinov2
from tests.eval.runs import make_run
from text3d.cli import main
from text3d.cli.eval import parse_weights
from text3d.errors import InputError


def run_cli(args, capsys):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return save_tiny_dinov2(root / "dino"), save_tiny_clip(root / "clip")


def test_eval_then_compare(tmp_path, models, capsys):
    dino, clip = models
    ref = make_run(tmp_path / "ref", [("box", "red"), ("sphere", "blue"), ("cylinder", "green")], captions=False)
    outs = []
    for k, specs in enumerate(([("box", "red"), ("sphere", "green")], [("cylinder", "blue"), ("box", "yellow")],
                               [("sphere", "red"), ("cylinder", "yellow")])):
        gen = make_run(tmp_path / f"gen{k}", specs, name=f"family{k % 2}:{k}b")
        out = tmp_path / f"eval{k}"
        code, stdout, err = run_cli(["eval", "--generated", gen, "--reference", ref, "--extractors",
                                     "dinov2-vitl14,clip-vit-large-patch14", "--weights", f"dinov2-vitl14={dino}",
                                     "-w", f"clip-vit-large-patch14={clip}", "--resolution", "32",
                                     "--kd-subsets", "10", "--device", "cpu", "--out", out], capsys)
        assert code == 0, err
        assert "evaluated 2 items" in stdout and "fd_dinov2-vitl14=" in stdout
        assert "R@5 is null" in err  # the evaluation's warnings are said, not only recorded
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["system"] == f"family{k % 2}:{k}b" and metrics["protocol"]["kd_subsets"] == 10
        outs.append(out)
    code, stdout, err = run_cli(["eval", "compare", *outs, "--out", tmp_path / "cmp"], capsys)
    assert code == 0, err
    assert "compared 3 systems" in stdout
    earlier = (tmp_path / "cmp" / "compare.json").read_bytes()
    code, _, err = run_cli(["eval", "compare", *outs[:2], "--out", tmp_path / "cmp"], capsys)
    assert code == 2 and "already holds a comparison" in err and err.count("\n") == 1
    assert (tmp_path / "cmp" / "compare.json").read_bytes() == earlier  # the earlier comparison is kept
    code, stdout, err = run_cli(["eval", "compare", *outs, "--out", tmp_path / "cmp", "--overwrite"], capsys)
    assert code == 0 and "compared 3 systems" in stdout, err
    document = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert [s["family"] for s in document["systems"]] == ["family0", "family1", "family0"]
    assert (tmp_path / "cmp" / "clip_aug_vs_fd.png").exists() and (tmp_path / "cmp" / "compare.md").exists()


def test_reference_free_eval_with_one_extractor_and_bare_weights(tmp_path, models, capsys):
    gen = make_run(tmp_path / "gen", [("box", "red"), ("sphere", "green")])
    code, _, err = run_cli(["eval", "-g", gen, "-e", "clip-vit-large-patch14", "-w", models[1],
                                 "--resolution", "32", "--kd-subsets", "5", "-o", tmp_path / "out"], capsys)
    assert code == 0 and "--kd-subsets 5 is unused" in err, err  # KD needs a reference set
    # --weights names an extractor in use, the defaults included
    code, _, err = run_cli(["eval", "-g", gen, "-w", "/x", "-o", tmp_path / "o2"], capsys)
    assert code == 2 and "one of the extractors in use (embedded, embedded-clip)" in err
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert "clip_delta" in metrics and "r_at_1" in metrics and "fd_per_asset" not in metrics
    # the evaluation kept beside the run's manifest is replaced only with --overwrite, as anywhere else
    args = ["eval", "-g", gen, "-e", "clip-vit-large-patch14", "-w", models[1], "--resolution", "32", "-o", gen]
    code, _, err = run_cli(args, capsys)
    assert code == 0 and "unused" not in err, err
    (gen / "metrics.json").write_text('{"mine": 1}')
    code, _, err = run_cli(args, capsys)
    assert code == 2 and "already holds an evaluation" in err and err.count("\n") == 1
    assert json.loads((gen / "metrics.json").read_text()) == {"mine": 1}
    code, _, err = run_cli([*args, "--overwrite"], capsys)
    assert code == 0 and "clip_delta" in json.loads((gen / "metrics.json").read_text()), err


def test_compare_refuses_malformed_metrics_in_one_line(tmp_path, capsys):
    for name, content in (("list", b"[1, 2]"), ("binary", b"\xf0\x28\x8c\x28"), ("ok", b'{"system": "a"}')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_bytes(content)
    for bad, needle in (("list", "holds a JSON list"), ("binary", "not a text file")):
        code, _, err = run_cli(["eval", "compare", tmp_path / "ok", tmp_path / bad, "--out", tmp_path / "c"], capsys)
        assert code == 2 and needle in err and str(tmp_path / bad) in err and err.count("\n") == 1, err
        assert not (tmp_path / "c").exists()
    code, _, err = run_cli(["eval", "compare", tmp_path / "ok", tmp_path / "ok" / "metrics.json", "--out",
                            tmp_path / "c"], capsys)
    assert code == 2 and "given twice" in err and err.count("\n") == 1


def test_eval_errors_are_one_line(tmp_path, capsys, monkeypatch):
    gen = make_run(tmp_path / "gen", [("box", "red"), ("sphere", "green")])  # FD needs 2 items per set
    code, _, err = run_cli(["eval", "--generated", gen, "--out", tmp_path / "o", "-e", "nosuch"], capsys)
    assert code == 2 and "'nosuch'" in err and "embedded-clip" in err and err.count("\n") == 1
    assert "--extractors" in err and not (tmp_path / "o").exists()  # refused before any folder is made
    for args, needle in ((["--views", "bogus"], "--views 'bogus': unknown view protocol"),
                         (["--clip-views", "bogus"], "--clip-views 'bogus': unknown view protocol"),
                         (["-e", " , "], "name at least one extractor")):
        code, _, err = run_cli(["eval", "--generated", gen, "--out", tmp_path / "o", *args], capsys)
        assert code == 2 and needle in err and err.count("\n") == 1 and not (tmp_path / "o").exists(), err
    code, _, err = run_cli(["eval", "--out", tmp_path / "o"], capsys)
    assert code == 2 and "--generated" in err
    (tmp_path / "afile").write_text("x")
    code, _, err = run_cli(["eval", "-g", gen, "--out", tmp_path / "o", "--cache-dir", tmp_path / "afile"], capsys)
    assert code == 2 and f"--cache-dir {tmp_path / 'afile'}: is a file" in err and not (tmp_path / "o").exists()
    monkeypatch.delenv("TEXT3D_WEIGHTS_DINOV2", raising=False)
    code, _, err = run_cli(["eval", "-g", gen, "-r", gen, "-e", "dinov2-vitl14", "-o", tmp_path / "o"], capsys)
    assert code == 3 and "facebook/dinov2-large" in err and "TEXT3D_WEIGHTS_DINOV2" in err
    code, _, err = run_cli(["eval", "compare", tmp_path / "o", "--out", tmp_path / "c"], capsys)
    assert code == 2 and "at least two" in err
    # refusals raised after the output folder's lock was taken leave no folder behind
    code, _, err = run_cli(["eval", "-g", gen, "--out", tmp_path / "o", "--device", "bogus"], capsys)
    assert code == 2 and "device 'bogus'" in err and not (tmp_path / "o").exists(), err
    code, _, err = run_cli(["eval", "compare", gen, tmp_path / "nowhere", "--out", tmp_path / "c"], capsys)
    assert code == 2 and err.count("\n") == 1 and not (tmp_path / "c").exists(), err
    (tmp_path / "e1").mkdir()
    code, _, err = run_cli(["eval", "compare", tmp_path / "e1", tmp_path / "e1" / ".", "--out", tmp_path / "c"], capsys)
    assert code == 2 and "given twice" in err and err.count("\n") == 1 and not (tmp_path / "c").exists()


def test_parse_weights():
    names = ("dinov2-vitl14", "pointnet2")
    assert parse_weights(["pointnet2=/w/p.pth", "dinov2-vitl14=/w/d"], names) == {"pointnet2": "/w/p.pth",
                                                                                 "dinov2-vitl14": "/w/d"}
    assert parse_weights(["/w/d=1"], ("dinov2-vitl14",)) == {"dinov2-vitl14": "/w/d=1"}
    with pytest.raises(InputError, match="NAME=PATH"):
        parse_weights(["/w/d"], names)


def test_a_read_only_reference_gets_no_lock_and_no_files(tmp_path, monkeypatch, capsys):
    """`text3d eval` reads a run it cannot write (tests run as root: ``writable`` stands in for a
    read-only mount) and writes what it lacks under --out."""
    import text3d.eval.inputs as inputs

    gen = make_run(tmp_path / "gen", [("box", "red"), ("sphere", "green")])
    ref = make_run(tmp_path / "ref", [("box", "red"), ("sphere", "blue")], captions=False)
    before = sorted(p.relative_to(ref) for p in ref.rglob("*"))
    monkeypatch.setattr(inputs, "writable", lambda folder: not str(folder).startswith(str(ref)))
    code, stdout, err = run_cli(["eval", "--generated", gen, "--reference", ref, "--resolution", "32",
                                 "--kd-subsets", "4", "--device", "cpu", "--out", tmp_path / "out"], capsys)
    assert code == 0, err
    assert sorted(p.relative_to(ref) for p in ref.rglob("*")) == before  # no lock file, no views
    assert (tmp_path / "out" / "derived" / "reference" / "item000" / "views").is_dir()
