"""Closed-vocabulary conditioning: objects outside toyworld become the nearest category."""

from text3d.generators.closed_vocabulary import nearest_known_text


def test_an_unnamed_object_is_replaced_by_its_nearest_category_in_the_caption():
    caption = "A small green champignon, a single object on a plain background (emerald champignon, petite)."
    known = nearest_known_text("emerald champignon, petite", caption)
    assert known.text == caption.replace("champignon", "mushroom")
    assert [(noun, g.name) for noun, g in known.substitutions] == [("champignon", "mushroom")]
    assert known.category == "mushroom"
    assert known.warnings[0].startswith("no toyworld category for 'champignon'; generating the nearest, 'mushroom'")


def test_named_categories_are_left_alone():
    caption = "A sailboat with a blue hull and a white sail; a single object on a plain background."
    known = nearest_known_text("small blue sailboat", caption)
    assert known.text == caption and known.substitutions == [] and known.warnings == []
    assert known.category == "sailboat"


def test_only_the_unnamed_object_of_a_pair_changes_and_plurals_stay_plural():
    from text3d.data.toyworld.vocabulary import CATEGORIES
    from text3d.text import plural

    known = nearest_known_text("two red telescopes and a blue car", "two red telescopes and a blue car")
    (noun, nearest), = known.substitutions
    assert noun == "telescopes" and nearest.name != "car" and known.category is None  # two objects
    assert known.text == f"two red {plural(CATEGORIES[nearest.name].noun)} and a blue car"
    plural_text = nearest_known_text("three emerald champignons", "three emerald champignons").text
    assert plural_text == "three emerald mushrooms"


def test_a_caption_without_the_typed_noun_falls_back_to_the_rewritten_prompt():
    known = nearest_known_text("emerald champignon", "A green fungus standing on a thin stalk.")
    assert known.text == "emerald mushroom"


def test_the_whole_unknown_phrase_is_replaced_where_it_stands_as_typed():
    known = nearest_known_text("a car and a yacht club", "a car and a yacht club")
    (typed, nearest), = known.substitutions
    assert typed == "yacht club" and "yacht" not in known.text and known.text.startswith("a car and a ")
    split = nearest_known_text("vintage red brass telescope", "vintage red brass telescope")
    assert split.substitutions[0][0] == "telescope" and split.text.startswith("vintage red brass ")
