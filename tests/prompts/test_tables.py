"""Tables kept across processes: hits, invalidation by key and version, corrupt files, read-only folders."""

import marshal

import numpy as np

from text3d.prompts import tables


def _build_counter():
    calls = []

    def build():
        calls.append(1)
        return {"chair": (1, 2, 3)}

    return calls, build


def test_a_table_is_built_once_then_read_from_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(tmp_path))
    calls, build = _build_counter()
    assert tables.cached_table("demo", ("k", 1), build) == {"chair": (1, 2, 3)}
    assert tables.cached_table("demo", ("k", 1), build) == {"chair": (1, 2, 3)}
    assert len(calls) == 1
    assert [p.parent for p in tmp_path.rglob("demo-*.marshal")] == [tmp_path / "tables"]


def test_another_key_or_version_rebuilds_and_replaces_the_old_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(tmp_path))
    calls, build = _build_counter()
    tables.cached_table("demo", "v1", build)
    tables.cached_table("demo", "v2", build)
    assert len(calls) == 2 and len(list((tmp_path / "tables").glob("demo-*.marshal"))) == 1
    monkeypatch.setattr(tables, "TABLES_VERSION", tables.TABLES_VERSION + 1)
    tables.cached_table("demo", "v2", build)
    assert len(calls) == 3


def test_a_corrupt_or_foreign_file_is_ignored_and_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(tmp_path))
    calls, build = _build_counter()
    tables.cached_table("demo", "k", build)
    (path,) = (tmp_path / "tables").glob("demo-*.marshal")
    for damage in (b"", b"\x00garbage", path.read_bytes()[:20], marshal.dumps(("another digest", {"x": 1}))):
        path.write_bytes(damage)
        assert tables.cached_table("demo", "k", build) == {"chair": (1, 2, 3)}
    assert len(calls) == 5
    assert tables.read_table("demo", "k") == {"chair": (1, 2, 3)}  # the rebuilt table was stored


def test_an_unwritable_cache_folder_only_costs_the_rebuild(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(blocker))
    calls, build = _build_counter()
    assert tables.cached_table("demo", "k", build) == {"chair": (1, 2, 3)}
    assert tables.cached_table("demo", "k", build) == {"chair": (1, 2, 3)}
    assert len(calls) == 2


def test_source_fingerprint_follows_the_source_text():
    first = tables.source_fingerprint("text3d.data.toyworld")
    assert first == tables.source_fingerprint("text3d.data.toyworld")
    assert first != tables.source_fingerprint("text3d.prompts.wordnet")


def test_cached_wordnet_tables_equal_a_fresh_parse(tmp_path, monkeypatch):
    from text3d.prompts.wordnet import WordNet, wordnet_folder

    folder = wordnet_folder()
    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(tmp_path))
    fresh = WordNet(folder)
    index, lines = fresh._index("adj"), fresh._lines("adj")
    assert list((tmp_path / "tables").glob("wordnet-index-adj-*.marshal"))
    cached = WordNet(folder)  # a new reader: its tables come from the files just written
    assert cached._index("adj") == index and cached._lines("adj") == lines
    assert cached._index("adj") == WordNet._parse_index(folder / "index.adj")


def test_cached_vocabulary_vectors_equal_computed_ones(tmp_path, monkeypatch):
    from text3d.prompts import grounding

    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(tmp_path))
    vocabulary = (("chair", ("chair", "stool")), ("sailboat", ("sailboat",)))
    grounding._vocabulary_vectors.cache_clear()
    built = grounding._vocabulary_vectors(vocabulary)
    grounding._vocabulary_vectors.cache_clear()
    loaded = grounding._vocabulary_vectors(vocabulary)
    grounding._vocabulary_vectors.cache_clear()
    expected = grounding._phrase_vectors(["chair", "sailboat", "stool"])
    for name in ("chair", "sailboat"):
        assert np.array_equal(built[name], loaded[name])
    assert np.allclose(loaded["chair"], expected[[0, 2]], atol=1e-6)


def test_cached_part_shares_equal_measured_ones(tmp_path, monkeypatch):
    from text3d.prompts.backends import _part_palettes

    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(tmp_path))
    _part_palettes.main_color_shares.cache_clear()
    built = _part_palettes.main_color_shares("sofa")
    _part_palettes.main_color_shares.cache_clear()
    monkeypatch.setattr(_part_palettes, "_measure_shares", lambda category: {"not": 0.0})  # must not run
    assert _part_palettes.main_color_shares("sofa") == built
    _part_palettes.main_color_shares.cache_clear()
    monkeypatch.undo()
    assert built == _part_palettes._measure_shares("sofa") and built["arms"] == 1.0
