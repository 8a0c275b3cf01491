import csv
import json

import pytest
import trimesh

from text3d.data.toys4k import import_prompt_list, import_toys4k, read_toys4k_csv
from text3d.errors import InputError
from text3d.store.folders import RunFolder


def make_toys4k(root):
    (root / "meshes" / "airplane" / "airplane_000").mkdir(parents=True)
    (root / "meshes" / "cup" / "cup_003").mkdir(parents=True)
    trimesh.creation.box((1, 2, 0.5)).export(str(root / "meshes/airplane/airplane_000/airplane_000.obj"))
    trimesh.creation.cylinder(0.3, 0.6).export(str(root / "meshes/cup/cup_003/cup_003.obj"))
    with (root / "Toys4k.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sha256", "file_identifier", "aesthetic_score", "captions"])
        writer.writerow(["a" * 64, "airplane/airplane_000/airplane_000.blend", 5.1,
                         json.dumps(["A toy airplane with wide wings.", "airplane"])])
        writer.writerow(["b" * 64, "cup/cup_003/cup_003.blend", 4.8, json.dumps(["A small white cup."])])
        writer.writerow(["c" * 64, "duck/duck_001/duck_001.blend", 4.9, json.dumps(["A yellow duck."])])


def test_toys4k_layout_becomes_a_run_folder(tmp_path):
    make_toys4k(tmp_path)
    counts = import_toys4k(tmp_path / "meshes", tmp_path / "Toys4k.csv", tmp_path / "run", resolution=32)
    assert counts == {"done": 2, "failed": 0, "missing": 1, "skipped": 0}
    rows = RunFolder(tmp_path / "run").manifest.rows()
    plane = rows["a" * 16]
    assert plane["category"] == "airplane" and plane["captions"][0] == "A toy airplane with wide wings."
    assert plane["prompt"] == "airplane" and plane["status"] == "done"
    assert rows["c" * 16]["status"] == "failed" and "duck_001" in rows["c" * 16]["error"]
    assert RunFolder(tmp_path / "run").item("a" * 16).has_views("canonical4")
    again = import_toys4k(tmp_path / "meshes", tmp_path / "Toys4k.csv", tmp_path / "run", resolution=32)
    assert again["skipped"] == 2


def test_bad_csv(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="file_identifier"):
        read_toys4k_csv(tmp_path / "x.csv")
    (tmp_path / "y.csv").write_text('file_identifier,captions\na/b/c.blend,"not json"\n')
    with pytest.raises(InputError, match="JSON list"):
        read_toys4k_csv(tmp_path / "y.csv")


def test_prompt_list(tmp_path):
    (tmp_path / "prompt_single.txt").write_text("# T3Bench style\na red car\n\n  a wooden chair  \n")
    assert import_prompt_list(tmp_path / "prompt_single.txt", tmp_path / "run") == 2
    rows = list(RunFolder(tmp_path / "run").manifest.rows().values())
    assert [r["prompt"] for r in rows] == ["a red car", "a wooden chair"] and rows[0]["status"] == "pending"
    (tmp_path / "empty.txt").write_text("\n# nothing\n")
    with pytest.raises(InputError, match="no prompts"):
        import_prompt_list(tmp_path / "empty.txt", tmp_path / "run2")
    jsonl = tmp_path / "two.jsonl"  # read as `generate --prompts` reads it: the 'prompt' field of each line
    jsonl.write_text('{"prompt": "red chair"}\n{"prompt": "blue boat", "id": 2}\n')
    assert import_prompt_list(jsonl, tmp_path / "run3") == 2
    assert [r["prompt"] for r in RunFolder(tmp_path / "run3").manifest.rows().values()] == ["red chair", "blue boat"]
    jsonl.write_text('{"prompt": 5}\n')
    with pytest.raises(InputError, match="two.jsonl:1: a JSON line needs a string 'prompt' field"):
        import_prompt_list(jsonl, tmp_path / "run4")


def write_rows(path, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sha256", "file_identifier", "aesthetic_score", "captions"])
        writer.writerows(rows)


@pytest.mark.parametrize("sha", ["../../victim", "/tmp/elsewhere", "abc/def0123456789", "zz" * 20])
def test_a_sha256_that_is_not_a_hex_digest_is_refused_before_any_write(tmp_path, sha):
    make_toys4k(tmp_path)
    write_rows(tmp_path / "bad.csv", [[sha, "cup/cup_003/cup_003.blend", 5, json.dumps(["a cup"])]])
    with pytest.raises(InputError, match=r"bad.csv:2: sha256 .* is not a hex digest"):
        import_toys4k(tmp_path / "meshes", tmp_path / "bad.csv", tmp_path / "run", resolution=32)
    assert not (tmp_path / "run").exists()


def test_two_rows_of_one_item_are_refused_naming_both_lines(tmp_path):
    make_toys4k(tmp_path)
    write_rows(tmp_path / "dup.csv", [["ab" * 32, "cup/cup_003/cup_003.blend", 5, json.dumps(["a cup"])],
                                      ["AB" * 32, "airplane/airplane_000/airplane_000.blend", 5, "[]"]])
    with pytest.raises(InputError, match="dup.csv:3: item abababababababab .* repeats line 2"):
        read_toys4k_csv(tmp_path / "dup.csv")


def test_unusable_captions_never_become_the_prompt(tmp_path):
    make_toys4k(tmp_path)
    write_rows(tmp_path / "odd.csv", [["a" * 64, "cup/cup_003/cup_003.blend", 5, json.dumps(["   ", "a\u0000cup\n"])],
                                      ["b" * 64, "airplane/airplane_000/airplane_000.blend", 5,
                                       json.dumps(["a  toy\tplane", "?!"])]])
    import_toys4k(tmp_path / "meshes", tmp_path / "odd.csv", tmp_path / "run", resolution=32)
    rows = RunFolder(tmp_path / "run").manifest.rows()
    assert rows["a" * 16]["prompt"] == "cup"  # blank and control-character captions skipped: the category
    assert rows["b" * 16]["prompt"] == "a toy plane"  # spaces collapsed; "?!" names nothing


def test_the_same_folders_spelled_another_way_resume_the_import(tmp_path, monkeypatch):
    make_toys4k(tmp_path)
    monkeypatch.chdir(tmp_path)
    import_toys4k("meshes", "Toys4k.csv", "run", resolution=32)
    monkeypatch.chdir(tmp_path / "meshes")
    again = import_toys4k(tmp_path / "meshes", tmp_path / "Toys4k.csv", tmp_path / "run", resolution=32)
    assert again["skipped"] == 2


def test_files_of_one_name_are_told_apart_by_the_identifiers_folders(tmp_path):
    for folder in ("a", "b", "c/b"):
        (tmp_path / "meshes" / folder).mkdir(parents=True)
    trimesh.creation.box((1, 1, 1)).export(str(tmp_path / "meshes/a/x_000.obj"))  # 12 faces
    trimesh.creation.icosphere(1).export(str(tmp_path / "meshes/b/x_000.obj"))  # 80 faces
    csv_path = tmp_path / "t.csv"
    csv_path.write_bytes("\ufefffile_identifier,captions\nb/x_000.blend,\"[\"\"a ball\"\"]\"\n".encode())  # BOM
    counts = import_toys4k(tmp_path / "meshes", csv_path, tmp_path / "run", resolution=32)
    assert counts["done"] == 1
    item = RunFolder(tmp_path / "run").item(next(iter(RunFolder(tmp_path / "run").manifest.rows())))
    assert len(trimesh.load(str(item.asset_path), force="mesh").faces) == 80  # b/'s sphere, not a/'s box
    # the same object in two formats in one folder is one object, not an ambiguity
    trimesh.creation.icosphere(1).export(str(tmp_path / "meshes/b/x_000.glb"))
    assert import_toys4k(tmp_path / "meshes", csv_path, tmp_path / "run1", resolution=32)["done"] == 1
    # two files whose folders match the identifier equally: refused as ambiguous, not guessed
    trimesh.creation.box((1, 1, 1)).export(str(tmp_path / "meshes/c/b/x_000.obj"))
    (tmp_path / "u.csv").write_text('file_identifier,captions\nx_000.blend,"[""a thing""]"\n')
    counts = import_toys4k(tmp_path / "meshes", tmp_path / "u.csv", tmp_path / "run2", resolution=32)
    assert counts["failed"] == 1
    row = next(iter(RunFolder(tmp_path / "run2").manifest.rows().values()))
    assert "4 mesh files named x_000.*" in row["error"]  # in three folders
    from text3d.cli import main

    code = main(["data", "toys4k", str(tmp_path / "meshes"), "--csv", str(tmp_path / "u.csv"), "--out",
                 str(tmp_path / "run3"), "-r", "32"])
    assert code == 1  # finished with a failed item


def test_a_row_without_file_identifier_is_a_failed_item_naming_its_line(tmp_path):
    """Not "without mesh" (a file that is not there): the CSV row names no file at all."""
    make_toys4k(tmp_path)
    with (tmp_path / "Toys4k.csv").open("a", newline="") as handle:
        csv.writer(handle).writerow(["d" * 64, "", 4.0, json.dumps(["A red ball."])])
    counts = import_toys4k(tmp_path / "meshes", tmp_path / "Toys4k.csv", tmp_path / "run", resolution=32)
    assert counts == {"done": 2, "failed": 1, "missing": 1, "skipped": 0}
    row = RunFolder(tmp_path / "run").manifest.rows()["d" * 16]
    assert row["status"] == "failed" and "Toys4k.csv line 5: empty file_identifier" in row["error"]
