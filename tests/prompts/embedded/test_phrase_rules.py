"""Phrases that each stand for one general reading rule, with the reading and caption expected.

Each rule is written once, for every phrase of its shape; the second phrase of each test reads
by the same rule and no branch names either."""

from text3d.prompts.embedded import embedded_caption, read_prompt


def single(prompt: str):
    objects = read_prompt(prompt).objects
    assert len(objects) == 1, objects
    return objects[0]


def test_a_trailing_generic_head_leaves_the_head_noun_before_it():
    for prompt, category in (("duck toy", "rubber_duck"), ("penguin figurine", "penguin"), ("robot model", "robot")):
        obj = single(prompt)
        assert obj.category.name == category and obj.noun_span == (0, 1) and obj.head_end == 1
        assert obj.grounded is None  # named by the vocabulary, not grounded
    caption = embedded_caption("duck toy", seed=0)
    assert caption.startswith("A duck toy built from ") and "beak" in caption and "(" not in caption


def test_a_last_comma_segment_of_attribute_words_describes_the_noun_before_it():
    car = single("car, salmon")  # a salmon-colored car, not a car beside a fish
    assert car.tokens == ("salmon", "car") and car.category.name == "car"
    assert car.grounded_colors == ((0, "orange"),) and car.grounded is None
    teapot = single("teapot, crimson, huge")
    assert teapot.tokens == ("crimson", "huge", "teapot") and teapot.category.name == "teapot"
    assert teapot.grounded_colors == ((0, "red"),) and teapot.grounded_sizes == ((1, "large"),)
    caption = embedded_caption("car, salmon", seed=0)
    assert caption.startswith("A car") and caption.endswith("(car, salmon).")
    assert "orange" in caption.split(",")[0]  # the main part takes the grounded color
    assert [o.category.name for o in read_prompt("car and salmon").objects] == ["car", "fish"]


def test_a_compound_wordnet_lists_with_no_concrete_sense_names_no_object():
    for prompt in ("yacht club", "golf club"):
        obj = single(prompt)
        assert obj.category is None and obj.unnamed_noun() == prompt
    assert embedded_caption("yacht club", seed=0).startswith("A yacht club shown whole")
    pair = single("a car and a yacht club")  # no concrete thing beside the car: one phrase, kept as typed
    assert pair.category is None and pair.unnamed_noun() == "yacht club"
    assert embedded_caption("a car and a yacht club", seed=0).startswith("A car and a yacht club ")


def test_a_later_piece_naming_a_part_or_the_whole_of_a_described_object_lists_its_parts():
    chair = single("a chair with a cushion and armrests")  # "armrests" grounds to chair, the whole
    assert chair.category.name == "chair" and not chair.simple
    boat = single("sailboat with red sail, blue hull")  # "hull" is a sailboat part
    assert boat.category.name == "sailboat" and boat.tokens[0] == "sailboat"
    caption = embedded_caption("a chair with a cushion and armrests", seed=0)
    assert caption.startswith("A chair with a cushion and armrests; it has ") and "legs" in caption
    assert [o.category.name for o in read_prompt("a car beside a tent").objects] == ["car", "tent"]


def test_no_pass_changes_what_an_earlier_one_read():
    reading = read_prompt("crimson yacht")
    obj = reading.objects[0]
    assert obj.grounded is not None and obj.grounded_colors == ((0, "red"),)
    plain = obj.without_grounding()
    assert plain.grounded is None and plain.category == obj.category
    assert obj.grounded is not None and obj.grounded_colors == ((0, "red"),)  # the reading itself is unchanged
    embedded_caption("crimson yacht " * 10, seed=0)  # a long prompt composes from ungrounded copies
    assert read_prompt("crimson yacht") == reading
