"""Inflection: the rough singular, the plural, WordNet's morphy candidates and caption lemmas."""

from text3d.text import SuffixRule, lemma_forms, morphy_candidates, plural, singular


def test_the_rough_singular_strips_regular_plural_endings_only():
    assert [singular(w) for w in ("wheels", "benches", "ponies", "boxes", "glasses", "buzzes")] == \
        ["wheel", "bench", "pony", "box", "glass", "buzz"]
    assert [singular(w) for w in ("glass", "cactus", "canvas", "iris", "bus", "toy")] == \
        ["glass", "cactus", "canvas", "iris", "bus", "toy"]


def test_plural_inflects_the_last_word_of_a_noun_phrase():
    assert [plural(w) for w in ("sailboat", "wine glass", "bunny", "bench", "toy", "box")] == \
        ["sailboats", "wine glasses", "bunnies", "benches", "toys", "boxes"]


def test_plural_then_singular_gives_the_noun_back_for_regular_nouns():
    for noun in ("sailboat", "bench", "bunny", "box", "lamp", "teapot"):
        assert singular(plural(noun)) == noun


def test_morphy_candidates_follow_wordnets_rule_order():
    assert morphy_candidates("benches", "noun") == ("benche", "bench")
    assert morphy_candidates("firemen", "noun") == ("fireman",)
    assert morphy_candidates("ponies", "noun") == ("ponie", "pony")
    assert morphy_candidates("bigger", "adj") == ("bigg", "bigge")
    assert morphy_candidates("s", "noun") == ()  # too short for any rule


def test_lemma_forms_cover_inflection_and_lemma_keeping_derivation():
    assert {"stop"} <= lemma_forms("stopped") and {"big"} <= lemma_forms("bigger")
    assert {"tidy"} <= lemma_forms("tidied") and {"glass"} <= lemma_forms("glassy")
    assert {"stone"} <= lemma_forms("stony") and {"wood"} <= lemma_forms("wooden")
    assert {"volcan"} <= lemma_forms("volcanic") and "artis" not in lemma_forms("artistic")
    assert lemma_forms("box") == {"box"}
    assert all(len(form) >= 3 for form in lemma_forms("axes") - {"axes"})


def test_a_suffix_rule_respects_its_length_and_exceptions():
    rule = SuffixRule("s", "", 4, unless=("ss",))
    assert rule.apply("cats") == "cat" and rule.apply("bus") is None and rule.apply("glass") is None
    assert rule.apply("cat") is None
