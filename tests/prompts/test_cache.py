import multiprocessing
import sqlite3

from text3d.prompts.cache import AugmentCache, cache_dir, cache_key


def test_key_is_canonical_and_covers_every_input():
    base = cache_key("ollama", "qwen3:0.6b", "blue boat", {"temperature": 0.7, "max_tokens": 64}, 0)
    assert base == cache_key("ollama", "qwen3:0.6b", "blue boat", {"max_tokens": 64, "temperature": 0.7}, 0)
    variants = [
        cache_key("openai", "qwen3:0.6b", "blue boat", {"temperature": 0.7, "max_tokens": 64}, 0),
        cache_key("ollama", "qwen3:1.7b", "blue boat", {"temperature": 0.7, "max_tokens": 64}, 0),
        cache_key("ollama", "qwen3:0.6b", "red boat", {"temperature": 0.7, "max_tokens": 64}, 0),
        cache_key("ollama", "qwen3:0.6b", "blue boat", {"temperature": 0.2, "max_tokens": 64}, 0),
        cache_key("ollama", "qwen3:0.6b", "blue boat", {"temperature": 0.7, "max_tokens": 64}, 1),
    ]
    assert len({base, *variants}) == 6 and len(base) == 64


def test_default_location_follows_text3d_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(tmp_path / "c"))
    assert AugmentCache().path == tmp_path / "c" / "augment.sqlite"
    monkeypatch.delenv("TEXT3D_CACHE_DIR")
    assert cache_dir().parts[-2:] == (".cache", "text3d")


def test_get_put_and_wal_mode(tmp_path):
    cache = AugmentCache(tmp_path / "a.sqlite")
    assert cache.get("k") is None
    cache.put("k", {"caption": "A boat.", "latency_s": 1.0})
    assert cache.get("k") == {"caption": "A boat.", "latency_s": 1.0}
    cache.put("k", {"caption": "Another boat."})
    assert cache.get("k") == {"caption": "Another boat."} and len(cache) == 1
    cache.close()
    with sqlite3.connect(tmp_path / "a.sqlite") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert AugmentCache(tmp_path / "a.sqlite").get("k") == {"caption": "Another boat."}  # persisted


def _writer(path: str, worker: int, count: int) -> None:
    cache = AugmentCache(path)
    for i in range(count):
        cache.put(f"w{worker}-{i}", {"worker": worker, "i": i})
        cache.put("shared", {"worker": worker, "i": i})
        assert cache.get(f"w{worker}-{i}") == {"worker": worker, "i": i}
    cache.close()


def test_several_processes_write_at_once(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    AugmentCache(path).put("warm", {"x": 1})  # one process already holds the file open
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(path, w, 40)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=60)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    cache = AugmentCache(path)
    for worker in range(4):
        for i in range(40):
            assert cache.get(f"w{worker}-{i}") == {"worker": worker, "i": i}
    assert cache.get("shared")["i"] == 39 and len(cache) == 4 * 40 + 2


def test_a_damaged_cache_file_is_bypassed(tmp_path, caplog):
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    cache = AugmentCache(path)
    assert cache.get("k") is None
    cache.put("k", {"x": 1})  # no exception
    assert "unusable" in caplog.text
