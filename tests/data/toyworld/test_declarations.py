"""Category declarations: stated once, checked against what the programs build, and the only
source of the embedded augmenter's part tables."""

import inspect

import pytest

from text3d.data.toyworld.declaration import CategoryInfo, register
from text3d.data.toyworld.instance import make_object, part_texts
from text3d.data.toyworld.parts import COUNTABLE_PARTS, OWN_MATERIAL_PARTS, PART_LOOKS
from text3d.data.toyworld.vocabulary import CATEGORIES, CATEGORY_NAMES, load_programs
from text3d.prompts.backends import _part_looks, _part_palettes

SEEDS = range(48)
TOYWORLD_TEXT_COUNTS_PIECES = {("bicycle", "wheels")}  # toyworld's texts count a wheel's tire and hub


def test_built_in_categories_keep_their_class_indices():
    assert CATEGORY_NAMES[:45] == (
        "ball", "spinning_top", "block_tower", "drum", "rubber_duck", "snowman", "penguin", "fish", "robot",
        "teddy_bear", "sailboat", "car", "truck", "airplane", "helicopter", "bicycle", "rocket", "train", "chair",
        "table", "stool", "bed", "sofa", "bookshelf", "lamp", "mug", "teapot", "bowl", "bottle", "wine_glass",
        "frying_pan", "house", "castle_tower", "lighthouse", "windmill", "tent", "tree", "pine_tree", "cactus",
        "flower", "mushroom", "hammer", "screwdriver", "axe", "shovel")
    assert all(load_programs()[name].info is CATEGORIES[name] for name in CATEGORY_NAMES)


def _stated_count(obj, part: str) -> int | None:
    """How many of ``part`` toyworld's texts and metadata say the object has (None: they do not say)."""
    if part in COUNTABLE_PARTS:
        return {p.name: p.count for p in part_texts(obj)}.get(part)
    fact = obj.attributes.get(part)
    return fact if isinstance(fact, int) and not isinstance(fact, bool) else None


def test_declared_counts_are_what_toyworld_builds():
    for info in CATEGORIES.values():
        for part, count in info.counts:
            if (info.name, part) in TOYWORLD_TEXT_COUNTS_PIECES:
                continue
            stated = {_stated_count(make_object(info.name, seed), part) for seed in SEEDS} - {None}
            assert stated <= {count}, (info.name, part, stated)


def test_main_parts_always_take_the_main_color():
    for info in CATEGORIES.values():
        if info.main_part:
            for seed in SEEDS:
                obj = make_object(info.name, seed)
                colors = {p.name: p.color for p in part_texts(obj)}
                assert colors[info.main_part] == obj.attributes["main_color"], (info.name, seed)


def test_shared_parts_have_the_main_material_when_they_have_the_main_color():
    for info in CATEGORIES.values():
        for seed in SEEDS:
            obj = make_object(info.name, seed)
            texts = {p.name: p for p in part_texts(obj)}
            for part in info.shared_parts:
                if part in texts and texts[part].color == obj.attributes["main_color"]:
                    assert texts[part].material == obj.attributes["material"], (info.name, part, seed)


def test_one_material_categories_build_their_parts_in_their_materials():
    for info in CATEGORIES.values():
        if info.one_material:
            for seed in SEEDS:
                for part in part_texts(make_object(info.name, seed)):
                    if part.name not in OWN_MATERIAL_PARTS:
                        assert part.material in info.materials, (info.name, part, seed)


def test_part_looks_name_only_toyworld_words():
    from text3d.data.toyworld.vocabulary import MATERIALS, PALETTE

    for name, look in PART_LOOKS.items():
        assert set(look.colors) <= set(PALETTE) and set(look.materials) <= set(MATERIALS) | {""}, name


def test_the_augmenter_tables_are_derived_not_declared():
    for module in (_part_looks, _part_palettes):
        source = inspect.getsource(module)
        assert not [name for name in CATEGORIES if f'"{name}"' in source], module.__name__
    assert dict(_part_looks.PART_COUNTS) == {(i.name, p): n for i in CATEGORIES.values() for p, n in i.counts}
    assert _part_looks.CATEGORY_MATERIALS["fish"] == ("plastic", "rubber", "ceramic") == CATEGORIES["fish"].materials
    assert _part_looks.CATEGORY_MATERIALS["cactus"] == ("",) and ("cactus", "arms") not in _part_looks.PART_COUNTS


def test_declarations_are_checked_and_registered_once():
    fish = CATEGORIES["fish"]
    with pytest.raises(KeyError, match="twice"):
        register(fish, load_programs()["fish"].build)
    bad = CategoryInfo("widget", "toys", "widget", ("gadget",), ("gizmo",), ("body",), test_paraphrases=("doohickey",),
                       counts=(("wheels", 4),), materials=("unobtainium",))
    with pytest.raises(ValueError, match="wheels.*unobtainium"):
        register(bad, load_programs()["fish"].build)
    assert "widget" not in CATEGORIES
