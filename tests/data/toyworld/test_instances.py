"""toyworld instances: determinism, text limits, vocabulary, splits, diversity."""

import numpy as np
import pytest

from text3d.assets.io import asset_to_glb_bytes
from text3d.data.toyworld.instance import (
    HELDOUT_SEEDS,
    KINDS,
    TRAIN_SEEDS,
    item_prompts,
    item_spec,
    make_instance,
    make_object,
    split_of,
)
from text3d.data.toyworld.text import MAX_CAPTION_WORDS, MAX_PROMPT_WORDS
from text3d.data.toyworld.vocabulary import (
    CATEGORIES,
    COLOR_PARAPHRASES,
    COLOR_WORDS,
    MATERIAL_PARAPHRASES,
    PALETTE,
    SIZE_PARAPHRASES,
    built_categories,
    load_programs,
)
from text3d.errors import InputError

PROGRAMS = sorted(load_programs())


def test_at_least_40_categories_over_8_groups_and_12_colors():
    assert len(PROGRAMS) >= 40
    assert len({CATEGORIES[c].group for c in PROGRAMS}) == 8
    assert len(PALETTE) >= 12


def test_deterministic_by_category_and_seed():
    a, b = make_instance("sailboat", 17), make_instance("sailboat", 17)
    assert a.metadata() == b.metadata()
    assert asset_to_glb_bytes(a.scene().to_asset()) == asset_to_glb_bytes(b.scene().to_asset())
    assert make_instance("sailboat", 18).metadata() != a.metadata()


def test_text_limits_over_5000_instances():
    seen_kinds = set()
    for index in range(5000):
        category, seed = item_spec(index, base_seed=HELDOUT_SEEDS.start if index % 2 else 0,
                                   categories=tuple(PROGRAMS))
        inst = make_instance(category, seed)
        seen_kinds.add(inst.kind)
        for kind, prompt in inst.prompts.items():
            assert 1 <= len(prompt.split()) <= MAX_PROMPT_WORDS, (inst.id, kind, prompt)
        assert len(inst.captions) >= 3 and len(set(inst.captions)) == len(inst.captions)
        for caption in inst.captions:
            assert len(caption.split()) <= MAX_CAPTION_WORDS, (inst.id, caption)
            assert CATEGORIES[category].noun in caption.lower(), (inst.id, caption)
        assert inst.attributes["color"] in inst.prompts["basic"] or any(
            w in inst.prompts["basic"] for w in COLOR_WORDS[inst.attributes["color"]])
        assert ("paraphrase" in inst.prompts) == (inst.split == "heldout")
    assert seen_kinds == set(KINDS)


def test_paraphrase_words_never_appear_in_training_text():
    held_out = {w for table in (COLOR_PARAPHRASES, MATERIAL_PARAPHRASES, SIZE_PARAPHRASES)
                for words in table.values() for w in words}
    held_out |= {p for c in CATEGORIES.values() for p in c.paraphrases if " " not in p}
    for index in range(600):
        category, seed = item_spec(index, 0, tuple(PROGRAMS))
        inst = make_instance(category, seed)
        words = set(" ".join(list(inst.prompts.values()) + inst.captions).lower().replace(",", " ")
                    .replace(".", " ").replace(";", " ").split())
        assert not (words & held_out), (inst.id, words & held_out)


def test_programs_use_vocabulary_part_names():
    for category in PROGRAMS:
        allowed = set(CATEGORIES[category].parts)
        for seed in range(12):
            names = {p.name for p in make_object(category, seed).parts}
            assert names <= allowed, (category, names - allowed)


def test_at_least_10000_distinct_instances_are_reachable():
    signatures = set()
    for index in range(len(PROGRAMS) * 250):
        category, seed = item_spec(index, 0, tuple(PROGRAMS))
        obj = make_object(category, seed)
        signatures.add((category, tuple(sorted((k, str(v)) for k, v in obj.attributes.items())),
                        round(float(obj.bounds()[1].sum()), 4)))
    assert len(signatures) >= 10_000


def test_seed_ranges_are_disjoint_and_enforced():
    assert set(TRAIN_SEEDS).isdisjoint(range(HELDOUT_SEEDS.start, HELDOUT_SEEDS.start + 10))
    assert split_of(5) == "train" and split_of(HELDOUT_SEEDS.start) == "heldout"
    with pytest.raises(InputError):
        split_of(-1)


def test_overrides_and_part_colors():
    obj = make_object("sailboat", 3, main="blue", material="wood", part_colors={"sail": "red"})
    hull = [p for p in obj.parts if p.name == "hull"][0]
    assert hull.color == "blue" and hull.material == "wood"
    assert all(p.color == "red" for p in obj.parts if p.name == "sail")


@pytest.mark.parametrize("category", PROGRAMS)
def test_voxel_grid_agrees_with_the_mesh(category):
    """The exact inside tests and the meshes describe the same solid, and no part is too thin
    for the 32³ grids the generator learns from: rendered silhouettes of the voxel surface
    and of the mesh overlap (IoU > 0.75) from two views."""
    from text3d.render.cameras import Camera
    from text3d.render.renderer import render

    scene = make_instance(category, 1, kind="basic").scene()
    mesh = scene.to_asset()
    voxels = scene.voxel_grid(32).to_asset()
    cams = [Camera(yaw=30, pitch=25, resolution=64), Camera(yaw=210, pitch=-20, resolution=64)]
    a, b = render(mesh, cams).mask, render(voxels, cams).mask
    iou = (a & b).sum() / (a | b).sum()
    assert iou > 0.75, (category, iou)
    colors = voxels.vertex_colors[:, :3]
    assert np.isfinite(colors).all()


def test_prompts_are_the_training_items_texts_made_without_meshes():
    prompts = item_prompts(8, TRAIN_SEEDS.start, built_categories())
    for index, prompt in enumerate(prompts):
        category, seed = item_spec(index, 0, built_categories())
        assert seed in TRAIN_SEEDS
        instance = make_instance(category, seed)
        assert prompt == instance.prompts["basic" if instance.kind == "basic" else "refined"]
    assert len(set(prompts)) == len(prompts)
