"""Readers of the MATE-3D and T³Bench prompt lists in their published layouts."""

from __future__ import annotations

import json

import pytest

from text3d.bias.readers import read_mate3d, read_t3bench
from text3d.errors import InputError


def test_mate3d_csv_and_both_json_layouts(tmp_path):
    csv_file = tmp_path / "prompts.csv"
    csv_file.write_text('Prompt,Category\n"A ceramic vase with a long, narrow neck",Complex\n'
                        "A red apple,basic\n\nA dragon made of glass,Fantastic\n")
    rows = read_mate3d(csv_file)
    assert [(r.prompt, r.group) for r in rows] == [("A ceramic vase with a long, narrow neck", "Complex"),
                                                  ("A red apple", "Basic"), ("A dragon made of glass", "Fantastical")]
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"prompt": "A cat and a dog", "category": "Grouped"}]))
    assert [(r.prompt, r.group) for r in read_mate3d(listed)] == [("A cat and a dog", "Grouped")]
    grouped = tmp_path / "grouped.json"
    grouped.write_text(json.dumps({"Spatial": ["A cup left of a plate", "A box on a chair"]}))
    assert [r.group for r in read_mate3d(grouped)] == ["Spatial", "Spatial"]


def test_t3bench_folder_and_single_file(tmp_path):
    (tmp_path / "prompt_single.txt").write_text("A white seashell\nA green cactus\n")
    (tmp_path / "prompt_multi.txt").write_text("A cat beside a dog\n\n")
    rows = read_t3bench(tmp_path)
    assert [(r.prompt, r.group) for r in rows] == [("A white seashell", "Single Obj."),
                                                  ("A green cactus", "Single Obj."),
                                                  ("A cat beside a dog", "Multi-Obj.")]
    assert [r.group for r in read_t3bench(tmp_path / "prompt_multi.txt")] == ["Multi-Obj."]


@pytest.mark.parametrize("name, content, needle", [
    ("a.csv", "text,score\nA red apple,3\n", "category column"),
    ("b.csv", "prompt,category\nA red apple\n", "fewer than the header"),
    ("c.csv", "prompt,category\n,Basic\n", "empty or missing prompt"),
    ("d.json", "[1, 2]", "item 0"),
    ("e.json", "{\"Basic\": \"A red apple\"}", "not a list"),
    ("f.json", "[{\"prompt\": \"x\"", "not JSON"),
    ("g.csv", "prompt,category\n", "no prompts"),
    ("h.csv", None, "no such file"),
])
def test_malformed_mate3d_files_are_refused_in_one_line(tmp_path, name, content, needle):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError) as info:
        read_mate3d(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_malformed_t3bench_inputs_are_refused_in_one_line(tmp_path):
    cases = []
    (tmp_path / "empty").mkdir()
    cases.append((tmp_path / "empty", "none of"))
    (tmp_path / "other.txt").write_text("A cat\n")
    cases.append((tmp_path / "other.txt", "not a T³Bench track file"))
    blank = tmp_path / "blank"
    blank.mkdir()
    (blank / "prompt_surr.txt").write_text("\n\n")
    cases.append((blank, "no prompts"))
    binary = tmp_path / "bin"
    binary.mkdir()
    (binary / "prompt_single.txt").write_bytes(b"\xff\xfe\x00bad")
    cases.append((binary, "not UTF-8"))
    for path, needle in cases:
        with pytest.raises(InputError) as info:
            read_t3bench(path)
        assert needle in str(info.value) and "\n" not in str(info.value), path
