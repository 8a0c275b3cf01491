"""Grounding is measured where its thresholds were chosen: on toyworld's *training* synonyms,
each grounded with itself removed from the vocabulary, and on nouns toyworld does not have."""

import numpy as np
import pytest
from matplotlib.colors import XKCD_COLORS

from text3d.data.toyworld.vocabulary import CATEGORIES, COLOR_PARAPHRASES, COLOR_WORDS
from text3d.prompts import grounding
from text3d.prompts.grounding import ground_category, ground_color, training_vocabulary, xkcd_color

OUTSIDE = ["telescope", "guitar", "violin", "laptop", "umbrella", "clock", "camera", "piano", "sword", "shoe",
           "hat", "backpack", "crown", "pumpkin", "anchor", "kite", "banana", "skateboard", "candle", "globe"]

# Words a user might type for each category, labelled by hand and disjoint from toyworld's training
# and held-out lists (checked below). Written after the held-out failures had been read, so it is a
# development list, not a test set: it measures rule changes, the held-out paraphrases stay the test.
DEV_WORDS = {
 "ball": ["football", "soccer ball", "basketball", "volleyball"],
 "spinning_top": ["dreidel", "teetotum", "gyroscope"],
 "block_tower": ["wooden blocks", "lego tower", "jenga tower"],
 "drum": ["bongo", "kettledrum", "bass drum", "timpani"],
 "rubber_duck": ["mallard", "squeaky duck", "bath toy"],
 "snowman": ["snow sculpture", "snowwoman"],
 "penguin": ["king penguin", "adelie"],
 "fish": ["salmon", "tuna", "carp", "koi", "minnow"],
 "robot": ["cyborg", "droid", "humanoid robot"],
 "teddy_bear": ["stuffed animal", "plush toy", "teddy"],
 "sailboat": ["catamaran", "schooner", "dinghy", "sailing ship"],
 "car": ["convertible", "hatchback", "limousine", "taxi", "roadster"],
 "truck": ["dump truck", "semi truck", "tractor trailer", "fire engine"],
 "airplane": ["biplane", "glider", "jetliner", "seaplane"],
 "helicopter": ["whirlybird", "gunship helicopter"],
 "bicycle": ["tandem bicycle", "mountain bike", "velocipede", "racing bike"],
 "rocket": ["space shuttle", "launch vehicle", "spaceship model"],
 "train": ["tram", "streetcar", "freight train", "subway train"],
 "chair": ["rocking chair", "throne", "recliner"],
 "table": ["coffee table", "workbench", "dinner table"],
 "stool": ["hassock", "milking stool"],
 "bed": ["crib", "bunk bed", "cradle", "four poster bed"],
 "sofa": ["futon", "chesterfield", "sectional sofa"],
 "bookshelf": ["bookstand", "shelving"],
 "lamp": ["floor lamp", "reading lamp", "nightlight", "lampshade"],
 "mug": ["teacup", "stein", "beer mug"],
 "teapot": ["samovar", "tea urn"],
 "bowl": ["porringer", "cereal bowl", "tureen"],
 "bottle": ["jug", "vial", "canteen", "flagon"],
 "wine_glass": ["champagne glass", "champagne flute"],
 "frying_pan": ["saucepan", "saute pan", "omelette pan"],
 "house": ["hut", "cabin", "villa", "farmhouse", "mansion"],
 "castle_tower": ["citadel", "fortress", "watchtower"],
 "lighthouse": ["beacon", "lightship tower"],
 "windmill": ["wind pump", "windwheel"],
 "tent": ["wigwam", "yurt", "pavilion"],
 "tree": ["oak", "birch", "elm", "willow"],
 "pine_tree": ["conifer", "fir", "cedar", "christmas tree"],
 "cactus": ["prickly pear", "cholla"],
 "flower": ["tulip", "sunflower", "lily", "orchid"],
 "mushroom": ["morel", "puffball", "chanterelle"],
 "hammer": ["sledgehammer", "maul"],
 "screwdriver": ["phillips screwdriver", "torx driver"],
 "axe": ["pickaxe", "battle axe", "broadaxe"],
 "shovel": ["snow shovel", "entrenching tool"],
}


def leave_one_out(word: str, category: str) -> dict[str, tuple[str, ...]]:
    vocabulary = training_vocabulary()
    vocabulary[category] = tuple(w for w in vocabulary[category] if w != word)
    return vocabulary


@pytest.mark.slow
def test_training_synonyms_ground_back_to_their_category_with_themselves_left_out():
    cases = [(word, name) for name, info in CATEGORIES.items() for word in info.synonyms]
    hits = [getattr(ground_category(word, leave_one_out(word, name)), "name", None) == name for word, name in cases]
    assert np.mean(hits) >= 0.85, np.mean(hits)  # measured 0.940


def test_nouns_outside_toyworld_mostly_stay_ungrounded():
    grounded = [w for w in OUTSIDE if ground_category(w) is not None]
    assert len(grounded) <= 6, grounded  # a wrong category in the caption is worse than none


def test_wordnet_grounds_through_synonyms_and_direct_hypernyms():
    assert ground_category("yacht").name == "sailboat"
    assert ground_category("whirligig").name == "spinning_top"  # a WordNet synonym of "spinning top"
    result = ground_category("tom-tom")
    assert result.name == "drum" and result.source == "wordnet" and result.score <= grounding.WORDNET_MAX_DISTANCE


def test_colors_ground_through_wordnet_then_the_xkcd_table():
    assert ground_color("crimson").name == "red" and ground_color("crimson").source == "wordnet"
    assert ground_color("tangerine").name == "orange" and ground_color("tangerine").source == "xkcd-colors"
    assert ground_color("grey").source == "vocabulary"
    assert ground_color("vintage") is None and ground_color("3d") is None
    # CIEDE2000 was chosen over CIE76 on XKCD's compound names ("dark blue", "pale green"): 0.70 vs 0.67
    compound = [(name[5:], color) for name in XKCD_COLORS for color, words in COLOR_WORDS.items()
                if " " in name and name.split()[-1] in words]
    assert np.mean([xkcd_color(name).name == color for name, color in compound]) >= 0.65
    held_out = [(w, c) for c, ws in COLOR_PARAPHRASES.items() for w in ws]
    right = sum(getattr(ground_color(w), "name", None) == c for w, c in held_out)
    assert right >= 14, right  # measured 17 / 20 (never tuned on these)


def test_a_wordnet_shade_compound_names_its_color():
    assert grounding.wordnet_color("sooty").name == "black"  # its synset holds "coal-black" and "jet-black"
    assert grounding.wordnet_color("pitchy").name == "black"


@pytest.fixture()
def fresh_caches():
    grounding._ground_category.cache_clear()
    ground_color.cache_clear()
    yield
    grounding._ground_category.cache_clear()
    ground_color.cache_clear()


def test_without_wordnet_grounding_falls_back_to_minilm(monkeypatch, fresh_caches):
    monkeypatch.setattr("text3d.prompts.grounding.shared_wordnet", lambda: None)
    assert grounding.wordnet_category("yacht") is None and grounding.wordnet_color("crimson") is None
    assert ground_category("whirligig") is None or ground_category("whirligig").source == "minilm"
    assert ground_color("crimson").source == "xkcd-colors"  # the color table still knows it


def test_sizes_ground_through_wordnet_adjectives():
    expected = {"gigantic": "large", "enormous": "large", "colossal": "large", "oversized": "large",
                "diminutive": "small", "minuscule": "small", "pocket-sized": "small", "moderate-sized": "medium",
                "medium-size": "medium", "tiny": "small"}
    assert {w: getattr(grounding.ground_size(w), "name", None) for w in expected} == expected
    assert grounding.ground_size("tiny").source == "vocabulary"
    for word in ("crimson", "yacht", "tall", "wooden", "3d"):
        assert grounding.ground_size(word) is None, word


@pytest.mark.slow
def test_the_augmenter_reads_the_hand_labelled_development_words():
    from text3d.prompts.embedded import read_prompt

    listed = {w for info in CATEGORIES.values() for w in info.words + info.paraphrases}
    cases = [(word, name) for name, words in DEV_WORDS.items() for word in words]
    assert not listed & {word for word, _ in cases}
    read = [getattr(read_prompt(word).objects[0].category, "name", None) for word, _ in cases]
    assert np.mean([got == name for got, (_, name) in zip(read, cases)]) >= 0.78  # measured 0.830


def test_only_senses_that_name_concrete_things_count():
    assert ground_category("stein").name == "mug"  # "mug" the vessel is WordNet's 4th sense, after "mugful"
    assert ground_category("globe") is None  # a sphere-shaped thing, but WordNet's "globe" is no ball
    assert grounding.names_object("telescope") and grounding.names_object("olive tree")
    assert grounding.names_object("yacht club") is False  # listed, but only as an organization
    assert grounding.names_object("zorblax") is None  # unknown to WordNet: no verdict


def test_wordnet_definitions_ground_words_the_hypernym_graph_places_far(fresh_caches):
    assert grounding.wordnet_category("samovar") is None and grounding.minilm_category("samovar") is None
    found = ground_category("samovar")  # "a metal urn with a spigot at the base; used in Russia to boil water for tea"
    assert found.name == "teapot" and found.source == "wordnet-gloss" and found.score >= grounding.GLOSS_MIN_SIMILARITY
    assert grounding.gloss_category("telescope") is None  # a definition unlike every category's words


def test_a_category_word_s_later_senses_count_only_when_another_word_corroborates_them():
    # "chopper" (a helicopter word) also means a meat cleaver, and "stool" a toilet ("throne"):
    # no other helicopter or stool word is near those senses, so they stand for nothing
    assert ground_category("cleaver") is None and ground_category("throne") is None
    assert ground_category("stein").name == "mug"  # "mug" the vessel is its word's first concrete sense
    assert grounding.link_distance({1: 0, 2: 1}, {3: 0, 2: 2}) == 3
    assert grounding.link_distance({1: 0}, {3: 0}) == float("inf")


def test_category_by_word_similarity_always_answers_and_agrees_with_the_thresholded_minilm_tier():
    from text3d.prompts.grounding import MINILM_MIN_SIMILARITY, category_by_word_similarity, minilm_category

    near = category_by_word_similarity("champignon")
    assert near.name == "mushroom" and near.source == "minilm-nearest"
    assert near.score < MINILM_MIN_SIMILARITY and minilm_category("champignon") is None
    assert minilm_category("sailboat").name == category_by_word_similarity("sailboat").name == "sailboat"
