import pytest

from text3d.prompts.words import content_words, missing_content_words
from text3d.text import words


def test_content_words_drop_function_and_request_words():
    assert content_words("a small blue sailboat") == ["small", "blue", "sailboat"]
    assert content_words("Generate a 3D model of two red chairs") == ["two", "red", "chairs"]
    assert content_words("the cat on the mat") == ["cat", "mat"]
    assert content_words("a model train") == ["model", "train"]  # "model" is content unless "model of"
    assert content_words("blue car next to pink chair") == ["blue", "car", "pink", "chair"]
    assert content_words("next car in front of a spinning top") == ["next", "car", "spinning", "top"]
    assert missing_content_words("blue car next to pink chair", "a blue car beside a pink chair") == []


def test_words_split_hyphens_and_drop_possessives():
    assert words("Medium-sized boat's hull") == ["medium", "sized", "boat", "hull"]


@pytest.mark.parametrize("prompt, caption", [
    ("small blue sailboat", "A small sailboat with a blue hull."),
    ("red chairs", "Two red chair designs side by side."),  # plural ↔ singular
    ("wooden table", "A table made of wood."),  # derivation keeps the lemma
    ("metal robot", "A metallic robot."),
    ("glass bottle", "A glassy bottle."),
    ("stone house", "A stony house."),
    ("grey cat", "A gray cat."),  # spelling variant
    ("violet flower", "A purple flower."),  # toyworld color class
    ("little car", "A small car."),  # toyworld size class
    ("2 mugs", "Two mugs."),  # numbers both ways
    ("three cups", "3 cups on a tray."),
    ("boat", "A sailboat with a white sail."),  # head-final compound
    ("blue plane", "A blue airplane."),
    ("tea pot", "A teapot."),  # joined
    ("teapot", "A tea pot."),  # split
    ("snow man", "A snowman."),
    ("tall tower", "A taller tower."),  # comparative
    ("striped ball", "A ball with stripes."),
    ("one ball", "A single ball."),
    ("aeroplane", "An airplane."),
])
def test_captions_that_keep_the_content_words(prompt, caption):
    assert missing_content_words(prompt, caption) == []


@pytest.mark.parametrize("prompt, caption, missing", [
    ("small blue sailboat", "A large red speedboat.", ["small", "blue", "sailboat"]),
    ("blue sailboat", "A blue boat.", ["sailboat"]),  # a general word does not keep a specific one
    ("coffee cup", "A coffee mug.", ["cup"]),  # loose synonyms are not decided
    ("red desk", "A red table.", ["desk"]),
    ("two mugs", "Three mugs.", ["two"]),
    ("car", "A carpet.", ["car"]),  # a prefix is no compound head
    ("man", "A woman.", ["man"]),  # too short a remainder for a compound
    ("red bed", "A reed bed.", ["red"]),
])
def test_captions_that_lose_content_words(prompt, caption, missing):
    assert missing_content_words(prompt, caption) == missing


def test_prompts_without_content_words_have_nothing_to_miss():
    assert missing_content_words("a the of", "Anything at all.") == []
