"""The pairs file of a bias augmentation run (``pairs.jsonl``): reading and digest."""

from __future__ import annotations

import json

import pytest

from text3d.errors import InputError
from text3d.store.pairs import PAIRS_FILE, pairs_digest, read_pairs


@pytest.mark.parametrize("content, needle", [
    (None, "no pairs.jsonl"),
    ("not json\n", "line 1"),
    ('{"asset": "items/nothing.glb", "text": "x"}\n', "does not exist"),
    ("\n", "no pairs"),
])
def test_malformed_pairs_are_refused_in_one_line(tmp_path, content, needle):
    if content is not None:
        (tmp_path / PAIRS_FILE).write_text(content)
    with pytest.raises(InputError) as info:
        read_pairs(tmp_path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_relative_assets_resolve_against_the_file_and_the_digest_reads_texts_and_bytes(tmp_path):
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "a.glb").write_bytes(b"one")
    (tmp_path / PAIRS_FILE).write_text(json.dumps({"asset": "items/a.glb", "text": "ball", "context": "a ball"}) + "\n")
    rows, file = read_pairs(tmp_path)
    assert file == tmp_path / PAIRS_FILE and rows == [{"asset": str(tmp_path / "items" / "a.glb"), "text": "ball",
                                                      "context": "a ball"}]
    first = pairs_digest(rows)
    assert pairs_digest(read_pairs(file)[0]) == first
    assert pairs_digest([{**rows[0], "context": "a ball on a shelf"}]) != first
    (tmp_path / "items" / "a.glb").write_bytes(b"two")
    assert pairs_digest(rows) != first  # the same texts, other asset bytes
