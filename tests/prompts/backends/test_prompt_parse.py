"""How the embedded augmenter reads a prompt: head noun last, attributes after a comma, sizes,
and WordNet's own spelling of a noun. Examples avoid toyworld's held-out paraphrase words."""

from text3d.prompts.backends._prompt_parse import split_objects
from text3d.prompts.backends.embedded import embedded_caption


def only(prompt: str):
    objects = split_objects(prompt)
    assert len(objects) == 1, objects
    return objects[0]


def test_a_comma_segment_of_attributes_describes_the_noun_before_it():
    car = only("motorcar, crimson, gigantic")
    assert car.category.name == "car" and car.tokens == ["crimson", "gigantic", "motorcar"]
    assert car.grounded_colors == {0: "red"} and car.grounded_sizes == {1: "large"}
    caption = embedded_caption("motorcar, crimson, gigantic", seed=0)
    assert caption.startswith("A large car") and caption.endswith("(motorcar, crimson, gigantic).")
    known = only("sailboat, blue")
    assert known.category.name == "sailboat" and known.colors == [0] and known.grounded is None
    listed = only("sailboat with red sail, blue hull")  # the comma segment names a part: no reordering
    assert listed.tokens[0] == "sailboat" and listed.category.name == "sailboat"


def test_the_last_word_is_the_head_noun_even_when_it_can_name_a_color():
    fish = only("scarlet salmon, enormous")
    assert fish.category.name == "fish" and fish.noun_span == (2, 3)
    assert fish.grounded_colors == {1: "red"} and fish.grounded_sizes == {0: "large"}


def test_a_color_word_does_not_lead_a_compound_it_alone_explains():
    gizmo = only("snowy gizmo")  # "snowy" alone reads as a snowman; a gizmo is not one
    assert gizmo.category is None
    assert only("motorcar zorblax").category.name == "car"  # an unknown head: the compound reads as its modifier


def test_wordnet_spelling_is_tried_before_the_rough_singular():
    assert only("white cosmos").category.name == "flower"  # not "cosmo"


def test_typed_words_are_not_repeated_when_the_head_keeps_them():
    prompt = "tall red wooden stack of blocks"
    caption = embedded_caption(prompt, seed=0)
    assert caption.count(prompt) == 1, caption
