"""toyworld's attribute words: the color palette, materials, sizes, proportions and numbers.

Words come in three sets. *Training* words (``COLOR_WORDS``, ``SIZE_WORDS``, a material's
``words``) appear in training prompts and captions. *Development* words (``COLOR_PARAPHRASES``,
``SIZE_PARAPHRASES``, ``MATERIAL_PARAPHRASES``) appear only in the paraphrase prompts of
development seeds, and *test* words (``*_TEST_PARAPHRASES``) only in those of test seeds
(:data:`text3d.data.toyworld.instance.DEV_SEEDS`, ``TEST_SEEDS``). Rules and thresholds are chosen
on training and development words; the test words are new to every rule table.
"""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- colors
PALETTE: dict[str, str] = {
    "red": "#c8102e",
    "orange": "#f07c12",
    "yellow": "#f5c400",
    "green": "#2e9e3e",
    "blue": "#1f5bc6",
    "purple": "#7a3db8",
    "pink": "#f27eb3",
    "brown": "#7b4a24",
    "black": "#1c1c1c",
    "white": "#f2f2ee",
    "gray": "#8c8c8c",
    "teal": "#10948f",
}
"""The 12 named colors (sRGB hex). Per-part colors are drawn from these."""

COLOR_NAMES: tuple[str, ...] = tuple(PALETTE)

COLOR_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red",), "orange": ("orange",), "yellow": ("yellow",), "green": ("green",),
    "blue": ("blue",), "purple": ("purple", "violet"), "pink": ("pink",), "brown": ("brown",),
    "black": ("black",), "white": ("white",), "gray": ("gray", "grey"), "teal": ("teal",),
}
"""Training words for each palette color."""

COLOR_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "red": ("crimson", "scarlet"), "orange": ("tangerine",), "yellow": ("golden", "lemon"),
    "green": ("emerald",), "blue": ("navy", "azure"), "purple": ("lilac", "plum"),
    "pink": ("rose",), "brown": ("chocolate", "tan"), "black": ("jet", "ebony"),
    "white": ("ivory", "snowy"), "gray": ("silver", "slate"), "teal": ("turquoise",),
}
"""Development color words (paraphrase prompts of development seeds only)."""

COLOR_TEST_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "red": ("vermilion", "garnet"), "orange": ("persimmon", "marmalade"), "yellow": ("buttercup", "flaxen"),
    "green": ("malachite", "verdant"), "blue": ("lapis",), "purple": ("amaranth", "damson"),
    "pink": ("flamingo", "peony"), "brown": ("tawny", "toffee"), "black": ("onyx", "raven"),
    "white": ("alabaster", "pearl"), "gray": ("pewter", "graphite"), "teal": ("peacock", "verdigris"),
}
"""Test color words (paraphrase prompts of test seeds only)."""

# --------------------------------------------------------------------------- materials


@dataclass(frozen=True)
class MaterialInfo:
    """How a material shows: roughness, how strongly it keeps the palette color, a sheen."""

    name: str
    roughness: float
    saturation: float  # 1 keeps the palette color, < 1 mixes toward gray
    brightness: float  # multiplies the linear color
    words: tuple[str, ...]
    adjective: str


MATERIALS: dict[str, MaterialInfo] = {
    "wood": MaterialInfo("wood", 0.75, 0.85, 0.9, ("wood", "wooden", "timber"), "wooden"),
    "metal": MaterialInfo("metal", 0.22, 0.7, 1.0, ("metal", "metallic", "steel"), "metal"),
    "plastic": MaterialInfo("plastic", 0.42, 1.0, 1.0, ("plastic",), "plastic"),
    "glass": MaterialInfo("glass", 0.06, 0.8, 1.1, ("glass", "glassy"), "glass"),
    "stone": MaterialInfo("stone", 0.95, 0.6, 0.85, ("stone", "rock"), "stone"),
    "fabric": MaterialInfo("fabric", 0.98, 0.95, 0.95, ("fabric", "cloth", "canvas"), "fabric"),
    "ceramic": MaterialInfo("ceramic", 0.18, 1.0, 1.0, ("ceramic", "porcelain"), "ceramic"),
    "rubber": MaterialInfo("rubber", 0.85, 0.95, 0.85, ("rubber",), "rubber"),
}

MATERIAL_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "wood": ("walnut", "mahogany"), "metal": ("iron", "chrome"), "plastic": ("vinyl",),
    "glass": ("crystal",), "stone": ("marble", "granite"), "fabric": ("linen", "woolen"),
    "ceramic": ("clay", "earthenware"), "rubber": ("latex",),
}
"""Development material words."""

MATERIAL_TEST_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "wood": ("teak", "rosewood"), "metal": ("titanium", "zinc"), "plastic": ("acrylic", "nylon"),
    "glass": ("frosted",), "stone": ("limestone", "basalt"), "fabric": ("cotton", "corduroy"),
    "ceramic": ("stoneware", "china"), "rubber": ("silicone", "neoprene"),
}
"""Test material words."""

# --------------------------------------------------------------------------- sizes
SIZES: dict[str, float] = {"small": 0.6, "medium": 1.0, "large": 1.6}
"""Size word → scale of the object's real-world size (recorded in metadata)."""

SIZE_WORDS: dict[str, tuple[str, ...]] = {
    "small": ("small", "little", "tiny"), "medium": ("medium", "medium-sized"), "large": ("large", "big"),
}
SIZE_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "small": ("miniature", "petite"), "medium": ("average-sized",), "large": ("huge", "giant"),
}
"""Development size words."""

SIZE_TEST_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "small": ("pint-sized", "undersized"), "medium": ("regular-sized", "standard-sized"),
    "large": ("mammoth", "hulking"),
}
"""Test size words."""

SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "tall": ("tall",), "short": ("short", "squat"), "wide": ("wide",), "narrow": ("narrow", "slim"),
}
"""Proportion words; a category applies those it supports (``CategoryInfo.shapes``)."""

NUMBER_WORDS: dict[int, str] = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six",
                                7: "seven", 8: "eight"}
