"""Held-out discipline: development and test seed ranges, and a test word list that appears in no
training text, no development word and no rule table."""

import re
from pathlib import Path

import pytest

import text3d
from text3d.data.toyworld.instance import DEV_SEEDS, HELDOUT_SEEDS, TEST_SEEDS, make_instance, seed_range, split_of
from text3d.data.toyworld.vocabulary import (
    CATEGORIES,
    COLOR_PARAPHRASES,
    COLOR_TEST_PARAPHRASES,
    COLOR_WORDS,
    MATERIAL_PARAPHRASES,
    MATERIAL_TEST_PARAPHRASES,
    MATERIALS,
    NUMBER_WORDS,
    SHAPE_WORDS,
    SIZE_PARAPHRASES,
    SIZE_TEST_PARAPHRASES,
    SIZE_WORDS,
)
from text3d.errors import InputError
from text3d.train.typed_variants import SIZE_ADJECTIVES

_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")
RULE_PACKAGES = ("prompts", "text", "generators")  # where rules, thresholds and phrase tables live


def _words(phrases) -> set[str]:
    return {w for phrase in phrases for w in _WORD.findall(phrase.lower())}


def _table_words(*tables: dict) -> set[str]:
    return _words(w for table in tables for words in table.values() for w in words)


def test_words() -> set[str]:
    nouns = _words(p for info in CATEGORIES.values() for p in info.test_paraphrases)
    return nouns | _table_words(COLOR_TEST_PARAPHRASES, SIZE_TEST_PARAPHRASES, MATERIAL_TEST_PARAPHRASES)


test_words.__test__ = False  # a helper, not a test


def test_seed_ranges_split_the_held_out_range():
    assert DEV_SEEDS.start == HELDOUT_SEEDS.start and DEV_SEEDS.stop == TEST_SEEDS.start == 1_900_000
    assert TEST_SEEDS.stop == HELDOUT_SEEDS.stop
    assert [seed_range(s) for s in (0, 999_999, 1_000_000, 1_899_999, 1_900_000, 1_999_999)] == \
        ["train", "train", "dev", "dev", "test", "test"]
    assert split_of(1_950_000) == "heldout"  # existing callers keep their two-way split
    with pytest.raises(InputError):
        seed_range(2_000_000)


FEWER_TEST_NOUNS = {"lighthouse", "hammer", "screwdriver"}
"""Categories whose everyday English nouns are all taken by training, development or the
hand-labelled development list of the grounding tests: two test nouns each."""


def test_every_category_has_test_nouns_and_every_attribute_test_words():
    for info in CATEGORIES.values():
        assert len(info.test_paraphrases) >= (2 if info.name in FEWER_TEST_NOUNS else 3), info.name
    for test, dev in ((COLOR_TEST_PARAPHRASES, COLOR_PARAPHRASES), (SIZE_TEST_PARAPHRASES, SIZE_PARAPHRASES),
                      (MATERIAL_TEST_PARAPHRASES, MATERIAL_PARAPHRASES)):
        assert set(test) == set(dev) and all(test.values())


def test_test_words_are_not_training_or_development_words():
    training = _words(w for info in CATEGORIES.values() for w in info.words + info.parts)
    training |= _table_words(COLOR_WORDS, SIZE_WORDS, SHAPE_WORDS, {k: v.words for k, v in MATERIALS.items()})
    training |= _words(m.adjective for m in MATERIALS.values()) | set(NUMBER_WORDS.values())
    training |= _words(SIZE_ADJECTIVES)  # the generator's typed training prompts
    development = _words(p for info in CATEGORIES.values() for p in info.paraphrases)
    development |= _table_words(COLOR_PARAPHRASES, SIZE_PARAPHRASES, MATERIAL_PARAPHRASES)
    assert not test_words() & training
    assert not test_words() & development


def test_test_words_are_not_typed_training_colors():
    from matplotlib.colors import XKCD_COLORS  # the generator's typed training colors are drawn from these

    assert not test_words() & {name.removeprefix("xkcd:") for name in XKCD_COLORS}


def test_test_words_are_in_no_rule_table():
    root = Path(text3d.__file__).parent
    found = {}
    for package in RULE_PACKAGES:
        for path in (root / package).rglob("*.py"):
            for word in test_words() & set(_WORD.findall(path.read_text(encoding="utf-8").lower())):
                found.setdefault(word, []).append(path.relative_to(root).as_posix())
    assert not found


def test_test_words_are_in_no_other_test():
    """No test of the suite uses a test word: the hand-labelled development list of the grounding
    tests (tests/prompts/test_grounding.py) and every example a rule was written against stay
    apart from what the reported figures are measured on."""
    tests = Path(__file__).resolve().parents[2]
    found = {}
    for path in tests.rglob("*.py"):
        if path.resolve() == Path(__file__).resolve():
            continue
        for word in test_words() & set(_WORD.findall(path.read_text(encoding="utf-8").lower())):
            found.setdefault(word, []).append(path.relative_to(tests).as_posix())
    assert not found


def test_test_words_are_in_no_training_text_and_only_test_paraphrases_use_them():
    for seed in range(0, 40):
        for category in CATEGORIES:
            texts = make_instance(category, seed).metadata()
            words = _words(list(texts["prompts"].values()) + texts["captions"])
            assert not words & test_words(), (category, seed)
    for category in CATEGORIES:
        dev = make_instance(category, DEV_SEEDS.start + 7).prompts["paraphrase"]
        test = make_instance(category, TEST_SEEDS.start + 7).prompts["paraphrase"]
        assert not _words([dev]) & test_words() and _words([test]) & test_words(), (dev, test)
        assert not _words([test]) & _words(CATEGORIES[category].paraphrases), test
