"""How the embedded augmenter reads a prompt (:func:`read_prompt`): head noun last, attributes after a comma, sizes,
and WordNet's own spelling of a noun. Examples avoid toyworld's held-out paraphrase words."""

from text3d.prompts.embedded import embedded_caption, read_prompt


def split_objects(prompt: str):
    return read_prompt(prompt).objects


def only(prompt: str):
    objects = split_objects(prompt)
    assert len(objects) == 1, objects
    return objects[0]


def test_a_comma_segment_of_attributes_describes_the_noun_before_it():
    car = only("motorcar, crimson, gigantic")
    assert car.category.name == "car" and car.tokens == ("crimson", "gigantic", "motorcar")
    assert dict(car.grounded_colors) == {0: "red"} and dict(car.grounded_sizes) == {1: "large"}
    caption = embedded_caption("motorcar, crimson, gigantic", seed=0)
    assert caption.startswith("A large car") and caption.endswith("(motorcar, crimson, gigantic).")
    known = only("sailboat, blue")
    assert known.category.name == "sailboat" and known.colors == (0,) and known.grounded is None
    listed = only("sailboat with red sail, blue hull")  # the comma segment names a part: no reordering
    assert listed.tokens[0] == "sailboat" and listed.category.name == "sailboat"


def test_the_last_word_is_the_head_noun_even_when_it_can_name_a_color():
    fish = only("scarlet salmon, enormous")
    assert fish.category.name == "fish" and fish.noun_span == (2, 3)
    assert dict(fish.grounded_colors) == {1: "red"} and dict(fish.grounded_sizes) == {0: "large"}


def test_a_color_word_leads_no_compound_that_wordnet_does_not_list():
    gizmo = only("snowy gizmo")  # "snowy" alone reads as a snowman; a gizmo is not one
    assert gizmo.category is None
    maple = only("snowy maple")  # a white maple, not the evergreen MiniLM reads into "snowy maple"
    assert maple.category.name == "tree" and dict(maple.grounded_colors) == {0: "white"}
    assert only("motorcar zorblax").category.name == "car"  # an unknown head: the compound reads as its modifier


def test_wordnet_spelling_is_tried_before_the_rough_singular():
    assert only("white cosmos").category.name == "flower"  # not "cosmo"
    assert not only("white cosmos").plural and only("white yachts").plural  # one cosmos, several yachts
    assert embedded_caption("white cosmos", seed=0).startswith("A ")


def test_typed_words_are_not_repeated_when_the_head_keeps_them():
    prompt = "tall red wooden stack of blocks"
    caption = embedded_caption(prompt, seed=0)
    assert caption.count(prompt) == 1, caption


def test_a_trailing_toy_word_leaves_the_head_before_it():
    assert only("duck toy").category.name == "rubber_duck" and only("duck toy").noun_span == (0, 1)
    assert only("red car toy").category.name == "car" and only("red car toy").colors == (0,)
    assert only("toy robot").category.name == "robot"  # the training order still reads as before
    assert embedded_caption("robot toy", seed=0).lower().count("spinning top") == 0


def test_an_of_phrase_names_a_category_as_the_compound_it_paraphrases():
    tower = only("red tower of blocks")
    assert tower.category.name == "block_tower" and tower.noun_span == (1, 2) and tower.colors == (0,)
    assert only("towers of blocks").plural
    assert only("glass of wine").category.name == "wine_glass"  # "wine glass"
    assert only("stack of blocks").grounded is None  # a training phrase itself, not a grounding
    assert only("cup of tea").category.name == "mug"  # "tea cup" is no training phrase: the cup stays
    assert only("tower of stone").category.name == "castle_tower"  # a material, not a compound


def test_a_comma_segment_of_color_words_is_no_second_object_even_when_it_could_name_one():
    car = only("car, salmon")  # a salmon-colored car, not a car beside a fish
    assert car.category.name == "car" and dict(car.grounded_colors) == {0: "orange"}  # XKCD salmon
    boat = only("sailboat, rose")
    assert boat.category.name == "sailboat" and [c for _, c in boat.grounded_colors] == ["pink"]
    assert [o.category.name for o in split_objects("sailboat, chair")] == ["sailboat", "chair"]
    assert [o.category.name for o in split_objects("car and salmon")] == ["car", "fish"]


def test_a_depiction_prefix_leaves_the_object_it_depicts():
    car = only("a 3d model of a red car")
    assert car.category.name == "car" and car.tokens == ("red", "car") and car.colors == (0,) and car.simple
    assert only("figurine of a penguin").category.name == "penguin"
    assert only("toy of a duck").category.name == "rubber_duck"
    assert only("model of").category is None  # nothing depicted: the words stay as typed


def test_grounded_plural_nouns_stay_plural_in_the_caption():
    assert embedded_caption("yachts", seed=0).startswith("Sailboats ")


def test_a_thing_outside_toyworld_joined_by_and_stays_a_separate_object_with_its_own_colors():
    telescope, car = split_objects("a red telescope and a blue car")
    assert telescope.category is None and telescope.tokens == ("red", "telescope")
    assert car.category.name == "car" and [car.tokens[i] for i in car.colors] == ["blue"]  # red is the telescope's
    assert len(split_objects("a red and blue car")) == 1  # "red" is a color here, not a red wine
    assert len(split_objects("a lamp next to the window")) == 1  # a spatial relation: the window is context
    chair = split_objects("a chair with a cushion and armrests")  # armrests ground to chair: parts of it
    assert len(chair) == 1 and chair[0].category.name == "chair"


def test_a_compound_wordnet_lists_as_no_object_grounds_to_nothing():
    assert only("yacht club").category is None  # an organization, not a sailboat
    assert only("olive tree").category.name == "tree"  # a listed compound naming a plant
    assert only("crimson yacht").category.name == "sailboat"


def test_unnamed_noun_is_what_no_attribute_explains_in_an_uncategorized_object():
    assert split_objects("average-sized heli in scarlet")[0].unnamed_noun() == "heli"
    assert split_objects("a big crimson dreidel toy")[0].unnamed_noun() == "dreidel"
    assert split_objects("small blue sailboat")[0].unnamed_noun() == ""
    telescope, car = split_objects("a red telescope and a blue car")
    assert (telescope.unnamed_noun(), car.unnamed_noun()) == ("telescope", "")
    assert only("a car and a yacht club").unnamed_noun() == "yacht club"  # the words after the coordinator
