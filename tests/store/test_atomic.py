import json

import pytest

from text3d.errors import InputError
from text3d.store.atomic import read_mapping, write_atomic, write_json


def test_write_json_is_deterministic_and_leaves_no_temp(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1, "a": [1, 2]})
    first = (tmp_path / "a.json").read_bytes()
    write_json(tmp_path / "a.json", {"a": [1, 2], "b": 1})
    assert (tmp_path / "a.json").read_bytes() == first
    assert json.loads(first) == {"a": [1, 2], "b": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")

    def boom(handle):
        handle.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, boom)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_an_os_error_of_the_write_names_the_target_not_the_temporary_file(tmp_path):
    def disk_full(handle):
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as caught:
        write_atomic(tmp_path / "x.txt", disk_full)
    assert caught.value.filename == str(tmp_path / "x.txt") and caught.value.errno == 28
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError) as caught:  # the rename onto a folder fails
        write_json(tmp_path / "folder", {"a": 1})
    assert caught.value.filename == str(tmp_path / "folder") and ".tmp" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]  # no temporary file left


def test_an_os_error_of_the_writers_own_reading_keeps_its_name(tmp_path):
    def reads_elsewhere(handle):
        open(tmp_path / "missing.bin", "rb")

    with pytest.raises(FileNotFoundError) as caught:
        write_atomic(tmp_path / "x.txt", reads_elsewhere)
    assert caught.value.filename == str(tmp_path / "missing.bin")


def test_read_json_lines_skips_lines_that_are_not_utf8(tmp_path):
    from text3d.store.atomic import read_json_lines

    path = tmp_path / "manifest.jsonl"
    path.write_bytes(b'{"id": "a"}\n\xf0\x28\x8c\x28 binary\n{"id": "b"}\n')
    assert [row["id"] for row in read_json_lines(path)] == ["a", "b"]


def test_read_mapping_reads_objects_and_refuses_the_rest_in_one_line(tmp_path):
    good, empty = tmp_path / "a.json", tmp_path / "b.yaml"
    good.write_text('{"x": 1}')
    empty.write_text("")
    assert read_mapping(good) == {"x": 1} and read_mapping(empty, "yaml") == {}
    for name, data, kind, needle in (("c.json", b"[1]", "json", "holds a list, not a mapping"),
                                     ("d.json", b"{", "json", "not valid JSON"),
                                     ("e.yaml", b"a: [", "yaml", "not valid YAML"),
                                     ("f.yaml", b"\xff", "yaml", "not UTF-8 text")):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(InputError, match=needle) as info:
            read_mapping(path, kind)
        assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_a_row_appended_after_a_torn_line_is_kept(tmp_path):
    from text3d.store.folders import Manifest

    manifest = Manifest(tmp_path / "manifest.jsonl")
    manifest.update_many([{"id": "a", "status": "done"}, {"id": "b", "status": "done"}])
    text = manifest.path.read_bytes()
    manifest.path.write_bytes(text[:-12])  # a process killed mid-append: b's line is torn
    manifest.update({"id": "b", "status": "done", "again": True})
    manifest.update_many([{"id": "c", "status": "done"}])
    rows = manifest.rows()
    assert rows["b"] == {"id": "b", "status": "done", "again": True} and "c" in rows
    manifest.compact()
    assert set(manifest.rows()) == {"a", "b", "c"}
