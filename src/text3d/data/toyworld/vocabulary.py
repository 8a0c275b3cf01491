"""toyworld's vocabulary: categories, parts, the color palette, materials and sizes.

This module is text only (no geometry): the prompt augmenter, the prompt parser of the
procedural backend and the caption writer all draw on it. Each category's geometry lives
in ``text3d.data.toyworld.categories``.

Words come in two sets. *Training* words (``synonyms``, ``COLOR_WORDS``, …) appear in
training prompts and captions. *Held-out* words (``paraphrases``, ``COLOR_PARAPHRASES``)
appear only in the paraphrase prompts of held-out seeds, so evaluation can test whether a
model generalizes through its text encoder instead of memorizing the training strings.
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
"""Held-out color words (paraphrase prompts only)."""

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

# --------------------------------------------------------------------------- sizes
SIZES: dict[str, float] = {"small": 0.6, "medium": 1.0, "large": 1.6}
"""Size word → scale of the object's real-world size (recorded in metadata)."""

SIZE_WORDS: dict[str, tuple[str, ...]] = {
    "small": ("small", "little", "tiny"), "medium": ("medium", "medium-sized"), "large": ("large", "big"),
}
SIZE_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "small": ("miniature", "petite"), "medium": ("average-sized",), "large": ("huge", "giant"),
}

SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "tall": ("tall",), "short": ("short", "squat"), "wide": ("wide",), "narrow": ("narrow", "slim"),
}
"""Proportion words; a category applies those it supports (``CategoryInfo.shapes``)."""

NUMBER_WORDS: dict[int, str] = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six",
                                7: "seven", 8: "eight"}

# --------------------------------------------------------------------------- categories


@dataclass(frozen=True)
class CategoryInfo:
    """Text facts of one category; its geometry program lives in ``categories/``."""

    name: str
    group: str
    noun: str
    synonyms: tuple[str, ...]
    paraphrases: tuple[str, ...]
    parts: tuple[str, ...]
    shapes: tuple[str, ...] = ()
    size_m: float = 0.3  # real-world height of a medium instance, meters

    @property
    def words(self) -> tuple[str, ...]:
        """Every training name of the category (noun first)."""
        return (self.noun,) + tuple(s for s in self.synonyms if s != self.noun)


def _c(name: str, group: str, noun: str, synonyms: tuple[str, ...], paraphrases: tuple[str, ...],
       parts: tuple[str, ...], shapes: tuple[str, ...] = (), size_m: float = 0.3) -> CategoryInfo:
    return CategoryInfo(name, group, noun, synonyms, paraphrases, parts, shapes, size_m)


_CATEGORY_LIST = [
    # toys
    _c("ball", "toys", "ball", ("beach ball", "toy ball"), ("sphere toy", "playball"), ("body", "stripe"), (), 0.3),
    _c("spinning_top", "toys", "spinning top", ("toy top", "spin top"), ("whirligig", "spinner"),
       ("body", "tip", "handle"), ("tall", "wide"), 0.1),
    _c("block_tower", "toys", "block tower", ("stack of blocks", "toy blocks"), ("tower of cubes", "building bricks"),
       ("block",), ("tall", "short"), 0.3),
    _c("drum", "toys", "drum", ("toy drum", "snare drum"), ("tom-tom", "tambour"),
       ("shell", "drumhead", "rim"), ("tall", "wide"), 0.4),
    _c("rubber_duck", "toys", "rubber duck", ("duck", "toy duck"), ("duckling", "bath duckie"),
       ("body", "head", "beak"), (), 0.1),
    # animals and characters
    _c("snowman", "characters", "snowman", ("snow man",), ("frosty figure", "snow figure"),
       ("base", "body", "head", "hat", "nose"), ("tall",), 1.5),
    _c("penguin", "characters", "penguin", ("toy penguin",), ("emperor bird", "antarctic bird"),
       ("body", "belly", "head", "beak", "feet"), ("tall", "short"), 0.6),
    _c("fish", "characters", "fish", ("toy fish",), ("goldfish", "trout"),
       ("body", "tail", "fin", "eyes"), ("wide", "narrow"), 0.3),
    _c("robot", "characters", "robot", ("toy robot", "android"), ("automaton", "mech"),
       ("torso", "head", "arms", "legs", "eyes"), ("tall", "wide"), 0.4),
    _c("teddy_bear", "characters", "teddy bear", ("bear", "toy bear"), ("plush bear", "stuffed bear"),
       ("body", "head", "ears", "arms", "legs", "snout"), (), 0.4),
    # vehicles
    _c("sailboat", "vehicles", "sailboat", ("sailing boat", "boat"), ("yacht", "sloop"),
       ("hull", "mast", "sail", "flag"), ("tall", "wide"), 6.0),
    _c("car", "vehicles", "car", ("automobile", "toy car"), ("sedan", "coupe"),
       ("body", "cabin", "wheels", "lights", "windows", "spoiler"), ("wide", "short"), 1.5),
    _c("truck", "vehicles", "truck", ("lorry", "toy truck"), ("pickup", "hauler"),
       ("cab", "cargo box", "wheels", "chassis", "windows"), ("tall", "wide"), 3.0),
    _c("airplane", "vehicles", "airplane", ("plane", "aeroplane"), ("jet", "airliner"),
       ("fuselage", "wings", "tail", "engines"), ("wide",), 10.0),
    _c("helicopter", "vehicles", "helicopter", ("chopper",), ("rotorcraft", "heli"),
       ("cabin", "rotor", "tail boom", "skids", "windows", "tail"), (), 4.0),
    _c("bicycle", "vehicles", "bicycle", ("bike",), ("cycle", "two-wheeler"),
       ("frame", "wheels", "seat", "handlebar", "basket"), (), 1.0),
    _c("rocket", "vehicles", "rocket", ("spaceship", "toy rocket"), ("spacecraft", "missile"),
       ("body", "nose cone", "fins", "window"), ("tall", "wide"), 20.0),
    _c("train", "vehicles", "train", ("locomotive", "steam engine"), ("railway engine", "choo-choo"),
       ("boiler", "cab", "chimney", "wheels", "roof", "windows", "cowcatcher", "chassis"), ("tall",), 4.0),
    # furniture
    _c("chair", "furniture", "chair", ("dining chair", "kitchen chair"), ("armchair", "side chair"),
       ("seat", "back", "legs", "arms"), ("tall", "wide"), 0.9),
    _c("table", "furniture", "table", ("dining table", "desk"), ("worktable", "countertop"),
       ("top", "legs"), ("tall", "wide", "short"), 0.75),
    _c("stool", "furniture", "stool", ("bar stool", "footstool"), ("tabouret", "perch seat"),
       ("seat", "legs"), ("tall", "short"), 0.6),
    _c("bed", "furniture", "bed", ("single bed", "cot"), ("bunk", "four-poster"),
       ("frame", "mattress", "headboard", "pillow", "blanket"), ("wide", "narrow"), 0.9),
    _c("sofa", "furniture", "sofa", ("couch", "settee"), ("loveseat", "divan"),
       ("seat", "back", "arms", "cushions", "legs"), ("wide",), 0.9),
    _c("bookshelf", "furniture", "bookshelf", ("bookcase", "shelf"), ("shelving unit", "book rack"),
       ("frame", "shelves", "books"), ("tall", "wide"), 1.8),
    _c("lamp", "furniture", "lamp", ("table lamp", "desk lamp"), ("lantern light", "floor light"),
       ("base", "stem", "shade"), ("tall", "short"), 0.5),
    # kitchenware
    _c("mug", "kitchenware", "mug", ("coffee mug", "cup"), ("tankard", "beaker"),
       ("body", "handle"), ("tall", "wide"), 0.1),
    _c("teapot", "kitchenware", "teapot", ("tea pot", "kettle"), ("tea kettle", "brewer"),
       ("body", "lid", "spout", "handle"), ("tall", "wide"), 0.2),
    _c("bowl", "kitchenware", "bowl", ("salad bowl", "dish"), ("basin", "soup dish"),
       ("body",), ("wide", "tall"), 0.1),
    _c("bottle", "kitchenware", "bottle", ("water bottle", "flask"), ("carafe", "decanter"),
       ("body", "neck", "cap", "label"), ("tall", "wide"), 0.3),
    _c("wine_glass", "kitchenware", "wine glass", ("goblet", "wineglass"), ("chalice", "stemware"),
       ("bowl", "stem", "foot"), ("tall",), 0.2),
    _c("frying_pan", "kitchenware", "frying pan", ("pan", "skillet"), ("wok", "griddle"),
       ("pan", "handle"), ("wide",), 0.1),
    # buildings
    _c("house", "buildings", "house", ("cottage", "home"), ("bungalow", "dwelling"),
       ("walls", "roof", "door", "windows", "chimney"), ("tall", "wide"), 8.0),
    _c("castle_tower", "buildings", "castle tower", ("tower", "turret"), ("keep", "fortress tower"),
       ("tower", "battlements", "door", "windows"), ("tall", "wide"), 15.0),
    _c("lighthouse", "buildings", "lighthouse", ("beacon tower", "light tower"), ("pharos", "coastal beacon"),
       ("tower", "stripes", "lantern", "roof"), ("tall",), 20.0),
    _c("windmill", "buildings", "windmill", ("wind mill", "mill"), ("wind turbine", "grain mill"),
       ("tower", "cap", "blades"), ("tall",), 12.0),
    _c("tent", "buildings", "tent", ("camping tent", "pup tent"), ("teepee", "shelter"),
       ("canvas", "door", "poles"), ("wide", "tall"), 1.5),
    # plants
    _c("tree", "plants", "tree", ("oak tree", "leafy tree"), ("maple", "sapling"),
       ("trunk", "canopy"), ("tall", "wide"), 8.0),
    _c("pine_tree", "plants", "pine tree", ("fir tree", "pine"), ("evergreen", "spruce"),
       ("trunk", "needles"), ("tall", "narrow"), 10.0),
    _c("cactus", "plants", "cactus", ("potted cactus", "succulent"), ("saguaro", "desert plant"),
       ("pot", "stem", "arms"), ("tall",), 0.4),
    _c("flower", "plants", "flower", ("potted flower", "blossom"), ("daisy", "bloom"),
       ("pot", "stem", "petals", "center"), ("tall",), 0.3),
    _c("mushroom", "plants", "mushroom", ("toadstool",), ("fungus", "champignon"),
       ("stem", "cap", "spots"), ("tall", "wide"), 0.1),
    # tools
    _c("hammer", "tools", "hammer", ("mallet", "claw hammer"), ("sledge", "gavel"),
       ("handle", "head"), (), 0.3),
    _c("screwdriver", "tools", "screwdriver", ("driver", "screw driver"), ("turnscrew", "hex driver"),
       ("handle", "shaft", "tip"), (), 0.2),
    _c("axe", "tools", "axe", ("hatchet", "ax"), ("tomahawk", "cleaver"),
       ("handle", "blade"), (), 0.6),
    _c("shovel", "tools", "shovel", ("spade",), ("scoop", "trowel"),
       ("handle", "grip", "blade"), (), 1.0),
]

CATEGORIES: dict[str, CategoryInfo] = {c.name: c for c in _CATEGORY_LIST}
"""Every toyworld category by name, in a fixed order (the order defines class indices)."""

CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(c.group for c in _CATEGORY_LIST))
COLOR_NAMES: tuple[str, ...] = tuple(PALETTE)


def category_index(name: str) -> int:
    """Class index of a category (its position in :data:`CATEGORY_NAMES`)."""
    return CATEGORY_NAMES.index(name)


def color_index(name: str) -> int:
    """Class index of a palette color."""
    return COLOR_NAMES.index(name)
