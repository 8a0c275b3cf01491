"""Retyped training prompts: outside words of the same meaning, never a held-out word."""

import numpy as np

from text3d.data.toyworld.vocabulary import CATEGORIES, COLOR_PARAPHRASES, MATERIAL_PARAPHRASES, SIZE_PARAPHRASES
from text3d.prompts.embedded import embedded_caption
from text3d.prompts.grounding import ground_color, ground_size
from text3d.train.generator import item_text_pool
from text3d.train.typed_variants import color_alternatives, size_alternatives, typed_variant


def test_alternatives_mean_the_same_and_avoid_held_out_words():
    held_out = {w for table in (COLOR_PARAPHRASES, SIZE_PARAPHRASES, MATERIAL_PARAPHRASES) for ws in table.values()
                for w in ws}
    held_out |= {w for info in CATEGORIES.values() for phrase in info.paraphrases for w in phrase.split()}
    colors, sizes = color_alternatives(), size_alternatives()
    assert all(len(names) >= 3 for names in colors.values()), colors
    assert all(len(words) >= 2 for words in sizes.values()), sizes
    for color, names in colors.items():
        assert not held_out & set(names)
        assert all(ground_color(n).name == color for n in names)
    for size, words in sizes.items():
        assert not held_out & set(words)
        assert all(ground_size(w).name == size for w in words)


def test_a_variant_swaps_colors_and_sizes_and_keeps_the_noun():
    rng = np.random.default_rng(0)
    variant = typed_variant("small blue sailboat", rng)
    size, color, noun = variant.split()
    assert size in size_alternatives()["small"] and color in color_alternatives()["blue"] and noun == "sailboat"
    assert typed_variant("sailboat", rng) == "sailboat"
    caption = embedded_caption(variant, seed=0)
    assert caption.endswith(f"({variant}).") and "blue" in caption and caption.startswith("A small sailboat")


def test_the_training_pool_holds_captions_of_retyped_prompts():
    texts, prompts = [["red mug", "A red ceramic mug."]], ["red mug"]
    pool = item_text_pool(texts, prompts, seed=0, typed_variants=2)[0]
    retyped = [text for text in pool if text.endswith(").")]
    assert pool[:2] == ["red mug", "A red ceramic mug."] and 1 <= len(retyped) <= 2
    assert all("red" in text and "mug" in text for text in retyped)
    assert item_text_pool(texts, prompts, seed=0, typed_variants=0)[0] == pool[:3]
