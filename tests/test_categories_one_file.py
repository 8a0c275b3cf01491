"""Adding a toyworld category is one declaration and one program: a category registered here, in
the test, shows up in toyworld, in the embedded augmenter's captions and in the procedural backend,
and registering it again with another program is never answered from stale tables."""

import pytest

from text3d.data.toyworld.declaration import CATEGORIES, CategoryInfo, register, unregister
from text3d.data.toyworld.instance import TEST_SEEDS, item_spec, make_instance
from text3d.data.toyworld.parse import parse_prompt
from text3d.data.toyworld.shapes import Extrusion, Part, cylinder, place
from text3d.data.toyworld.style import Style
from text3d.generators.base import Condition, create_generator
from text3d.prompts import augment
from text3d.prompts.backends._part_looks import CATEGORY_MATERIALS, MAIN_COLORS, MAIN_PART, PART_COUNTS, UNIFORM_PARTS
from text3d.prompts.backends._part_palettes import main_color_shares

KITE = CategoryInfo(
    "kite", "toys", "kite", synonyms=("toy kite",), paraphrases=("flying toy",), test_paraphrases=("windsock",),
    parts=("sail", "tail", "spars"), size_m=0.8, materials=("fabric", "plastic"), counts=(("spars", 2),),
    main_part="sail", shared_parts=("tail",), typical_colors=("red", "yellow"), one_material=True)


def _kite(s: Style, tail_color: str) -> list[Part]:
    """A diamond sail standing on its tail, two crossed spars behind it."""
    diamond = [(0.0, -0.5), (0.3, 0.0), (0.0, 0.5), (-0.3, 0.0)]
    parts = [Part("sail", Extrusion(diamond, 0.02), s.main, s.material, place(z=0.8, rx=90.0))]
    parts.append(Part("tail", cylinder(0.02, 0.3 * s.uniform(0.8, 1.2)), tail_color, s.material, place(z=0.0)))
    parts += [Part("spars", cylinder(0.01, 0.9), "brown", "wood", place(z=0.8, ry=angle)) for angle in (0.0, 90.0)]
    return parts


def _kite_with_accent_tail(s: Style) -> list[Part]:
    return _kite(s, s.accent)


def _kite_of_one_color(s: Style) -> list[Part]:
    return _kite(s, s.main)


@pytest.fixture
def kite(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(tmp_path))  # measured tables go to a fresh cache
    augment("red car", cache=False)  # tables built before the category exists must not hide it
    register(KITE, _kite_with_accent_tail)
    yield KITE
    unregister(KITE.name)


def test_a_registered_category_is_built_by_toyworld(kite):
    instance = make_instance("kite", 7)
    assert {p.name for p in instance.obj.parts} == {"sail", "tail", "spars"}
    assert instance.obj.attributes["material"] in kite.materials
    assert all("kite" in prompt for kind, prompt in instance.prompts.items() if kind != "grouped")
    assert len(instance.captions) == 3 and all("kite" in c for c in instance.captions)
    assert instance.metadata()["category"] == "kite" and instance.metadata()["group"] == "toys"
    held_out = make_instance("kite", TEST_SEEDS.start)
    assert "windsock" in held_out.prompts["paraphrase"]
    assert item_spec(1, 0, ("ball", "kite")) == ("kite", 0)


def test_a_registered_category_is_in_the_augmenter_tables_and_captions(kite):
    assert PART_COUNTS[("kite", "spars")] == 2 and MAIN_PART["kite"] == "sail"
    assert UNIFORM_PARTS["kite"] == frozenset({"tail"}) and CATEGORY_MATERIALS["kite"] == ("fabric", "plastic")
    assert MAIN_COLORS["kite"] == ("red", "yellow")
    caption = augment("blue kite", cache=False).caption
    assert "kite" in caption and "blue" in caption and "sail" in caption, caption
    plain = [augment("kite", seed=s, cache=False).caption for s in range(6)]
    assert all("sail" in c for c in plain) and any("red" in c or "yellow" in c for c in plain), plain
    assert any("two" in c and "spars" in c for c in plain), plain


def test_a_registered_category_is_built_by_the_procedural_backend(kite):
    assert parse_prompt("a blue kite with a yellow tail").category == "kite"
    output = create_generator("procedural").generate(Condition(prompt="a blue kite with a yellow tail"), seed=3)
    assert output.info["category"] == "kite" and not output.warnings
    assert output.info["attributes"]["main_color"] == "blue"


def test_registering_again_measures_the_new_program(kite):
    assert main_color_shares("kite")["tail"] < 0.5  # the tail takes the accent color
    unregister("kite")
    register(KITE, _kite_of_one_color)
    assert main_color_shares("kite")["tail"] == 1.0


def test_removing_a_category_removes_it_everywhere(kite):
    unregister("kite")
    assert "kite" not in CATEGORIES and "kite" not in MAIN_PART and ("kite", "spars") not in PART_COUNTS
    assert parse_prompt("a red kite and a blue ball").category == "ball"
    register(KITE, _kite_with_accent_tail)  # the fixture removes it again
