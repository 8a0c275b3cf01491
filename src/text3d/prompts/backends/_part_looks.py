"""What the parts of toyworld's categories plausibly look like (used by the embedded augmenter).

Colors here are drawn for a part after the main one only when it does not take the main color,
which happens as often as toyworld paints it so (``_part_palettes``).
Only words of toyworld's vocabulary appear here (palette colors, material names), so an
embedded caption never names an attribute the procedural dataset cannot show. Parts that
are not listed fall back to their category group's materials and any palette color.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PartLook:
    """Plausible colors, materials and shape words of one part ("" material: none named)."""

    colors: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    shapes: tuple[str, ...] = ()


PART_LOOKS: dict[str, PartLook] = {
    "hull": PartLook(("blue", "white", "red", "brown"), ("wood", "plastic"), ("curved", "pointed")),
    "mast": PartLook(("white", "brown"), ("wood", "metal"), ("tall", "thin")),
    "sail": PartLook(("white", "red", "yellow"), ("fabric",), ("triangular", "billowing")),
    "wheels": PartLook(("black", "gray"), ("rubber",), ("round",)),
    "lights": PartLook(("yellow", "white"), ("glass",), ("round",)),
    "windows": PartLook(("blue", "white"), ("glass",), ("square", "arched")),
    "window": PartLook(("blue", "white"), ("glass",), ("round",)),
    "roof": PartLook(("red", "brown", "gray", "blue"), ("stone", "wood"), ("pointed", "sloped")),
    "door": PartLook(("brown", "red", "green"), ("wood",), ("arched", "small")),
    "walls": PartLook(("white", "yellow", "gray"), ("stone", "wood"), ("straight",)),
    "chimney": PartLook(("red", "gray", "black"), ("stone", "metal"), ("narrow", "tall")),
    "trunk": PartLook(("brown",), ("wood",), ("thick", "sturdy")),
    "canopy": PartLook(("green",), ("",), ("round", "leafy")),
    "needles": PartLook(("green",), ("",), ("layered", "conical")),
    "petals": PartLook(("pink", "yellow", "red", "white", "purple"), ("",), ("rounded", "open")),
    "center": PartLook(("yellow", "orange", "brown"), ("",), ("round",)),
    "stem": PartLook(("green", "gray", "white"), ("",), ("slender", "thin")),
    "pot": PartLook(("brown", "orange", "white"), ("ceramic", "stone"), ("round", "small")),
    "cap": PartLook(("red", "brown", "white"), ("",), ("domed", "round")),
    "spots": PartLook(("white",), ("",), ("round",)),
    "eyes": PartLook(("black", "white"), ("plastic", "glass"), ("round",)),
    "beak": PartLook(("orange", "yellow"), ("plastic",), ("pointed", "short")),
    "nose": PartLook(("orange",), ("",), ("pointed",)),
    "feet": PartLook(("orange", "black"), ("rubber",), ("flat", "webbed")),
    "belly": PartLook(("white",), ("",), ("round",)),
    "tail": PartLook(("white", "gray", "orange"), ("metal", ""), ("fanned", "pointed")),
    "fin": PartLook(("orange", "blue"), ("",), ("small", "curved")),
    "fins": PartLook(("red", "gray", "white"), ("metal",), ("swept", "triangular")),
    "nose cone": PartLook(("red", "white"), ("metal",), ("pointed",)),
    "wings": PartLook(("white", "gray", "blue"), ("metal",), ("long", "swept")),
    "engines": PartLook(("gray", "white"), ("metal",), ("round",)),
    "fuselage": PartLook(("white", "gray", "blue"), ("metal",), ("long", "slender")),
    "rotor": PartLook(("black", "gray"), ("metal",), ("long", "thin")),
    "tail boom": PartLook(("white", "red", "yellow"), ("metal",), ("long", "thin")),
    "skids": PartLook(("black", "gray"), ("metal",), ("long",)),
    "frame": PartLook(("red", "black", "blue", "brown"), ("metal", "wood"), ("sturdy",)),
    "seat": PartLook(("black", "brown", "red", "blue"), ("wood", "fabric", "plastic"), ("flat", "padded")),
    "handlebar": PartLook(("black", "gray"), ("metal",), ("curved",)),
    "back": PartLook(("brown", "red", "blue", "gray"), ("wood", "fabric"), ("tall", "curved")),
    "legs": PartLook(("brown", "black", "gray"), ("wood", "metal"), ("straight", "slender")),
    "top": PartLook(("brown", "white", "gray"), ("wood", "stone", "glass"), ("flat", "wide")),
    "mattress": PartLook(("white", "blue"), ("fabric",), ("thick",)),
    "headboard": PartLook(("brown", "white"), ("wood",), ("tall",)),
    "pillow": PartLook(("white", "yellow"), ("fabric",), ("soft",)),
    "blanket": PartLook(("blue", "red", "green", "purple"), ("fabric",), ("folded",)),
    "arms": PartLook(("gray", "brown", "green"), ("fabric", "metal", ""), ("short", "rounded")),
    "cushions": PartLook(("gray", "blue", "green", "red"), ("fabric",), ("soft", "plump")),
    "shelves": PartLook(("brown", "white"), ("wood",), ("flat", "even")),
    "books": PartLook(("red", "blue", "green", "yellow"), ("",), ("upright",)),
    "base": PartLook(("black", "gray", "white", "brown"), ("metal", "ceramic", "wood"), ("round", "wide")),
    "shade": PartLook(("white", "yellow", "green"), ("fabric", "glass"), ("conical", "round")),
    "handle": PartLook(("brown", "black", "red", "yellow"), ("wood", "plastic", "rubber"),
                       ("long", "curved")),
    "lid": PartLook(("white", "blue", "red"), ("ceramic", "metal"), ("round", "domed")),
    "spout": PartLook(("white", "blue"), ("ceramic",), ("curved", "narrow")),
    "neck": PartLook(("green", "blue", "white"), ("glass", "plastic"), ("narrow",)),
    "label": PartLook(("white", "yellow", "red"), ("",), ("rectangular",)),
    "foot": PartLook(("white", "gray"), ("glass",), ("round", "flat")),
    "pan": PartLook(("black", "gray"), ("metal",), ("round", "shallow")),
    "tower": PartLook(("gray", "white", "brown"), ("stone",), ("tall", "round")),
    "battlements": PartLook(("gray",), ("stone",), ("square",)),
    "stripes": PartLook(("red", "white", "blue"), ("",), ("wide", "bold")),
    "stripe": PartLook(("white", "yellow", "red"), ("",), ("wide",)),
    "lantern": PartLook(("yellow", "white"), ("glass",), ("round",)),
    "blades": PartLook(("white", "brown", "gray"), ("wood", "fabric"), ("long", "wide")),
    "canvas": PartLook(("green", "orange", "blue", "yellow"), ("fabric",), ("sloped",)),
    "poles": PartLook(("gray", "brown"), ("metal", "wood"), ("thin",)),
    "head": PartLook(("gray", "black", "white", "brown"), ("metal", "plastic", "fabric"),
                     ("round", "square")),
    "blade": PartLook(("gray",), ("metal",), ("sharp", "flat")),
    "shaft": PartLook(("gray",), ("metal",), ("thin", "long")),
    "tip": PartLook(("gray", "black"), ("metal",), ("pointed",)),
    "grip": PartLook(("black", "red", "yellow"), ("rubber", "plastic"), ("short",)),
    "block": PartLook(("red", "yellow", "blue", "green"), ("wood", "plastic"), ("square",)),
    "drumhead": PartLook(("white",), ("fabric",), ("flat", "round")),
    "rim": PartLook(("gray", "yellow"), ("metal",), ("thin",)),
    "shell": PartLook(("red", "blue", "white"), ("wood", "metal"), ("round",)),
    "torso": PartLook(("gray", "blue", "white"), ("metal",), ("boxy", "square")),
    "snout": PartLook(("brown", "white"), ("fabric",), ("rounded",)),
    "ears": PartLook(("brown", "black"), ("fabric", ""), ("round", "small")),
    "hat": PartLook(("black", "red"), ("fabric",), ("tall",)),
    "cab": PartLook(("red", "blue", "green", "black"), ("metal",), ("boxy", "square")),
    "cargo box": PartLook(("gray", "blue", "white"), ("metal",), ("long", "boxy")),
    "boiler": PartLook(("black", "green", "red"), ("metal",), ("round", "long")),
    "cabin": PartLook(("blue", "white", "red"), ("glass", "metal"), ("rounded",)),
    "flag": PartLook(("red", "yellow", "blue"), ("fabric",), ("small", "triangular")),
    "spoiler": PartLook(("black", "red"), ("plastic", "metal"), ("low", "wide")),
    "chassis": PartLook(("black", "gray"), ("metal",), ("long", "flat")),
    "basket": PartLook(("brown", "black"), ("wood", "metal"), ("small", "square")),
    "cowcatcher": PartLook(("red", "black"), ("metal",), ("pointed",)),
    "body": PartLook(("red", "blue", "yellow", "green", "white"), (), ("round", "smooth")),
}
"""Part name → how it plausibly looks; ``body``'s materials come from the category group."""

GROUP_MATERIALS: dict[str, tuple[str, ...]] = {
    "toys": ("plastic", "wood", "rubber"),
    "characters": ("plastic", "fabric"),
    "vehicles": ("metal", "plastic"),
    "furniture": ("wood", "fabric", "metal"),
    "kitchenware": ("ceramic", "glass", "metal"),
    "buildings": ("stone", "wood"),
    "plants": ("",),
    "tools": ("metal", "wood"),
}

PART_COUNTS: dict[tuple[str, str], int] = {
    ("car", "wheels"): 4, ("truck", "wheels"): 6, ("bicycle", "wheels"): 2, ("train", "wheels"): 6,
    ("chair", "legs"): 4, ("table", "legs"): 4, ("stool", "legs"): 3, ("robot", "legs"): 2,
    ("teddy_bear", "legs"): 2, ("robot", "arms"): 2, ("teddy_bear", "arms"): 2, ("sofa", "arms"): 2,
    ("cactus", "arms"): 2, ("robot", "eyes"): 2, ("fish", "eyes"): 2, ("teddy_bear", "ears"): 2,
    ("airplane", "wings"): 2, ("airplane", "engines"): 2, ("rocket", "fins"): 3, ("windmill", "blades"): 4,
    ("helicopter", "skids"): 2, ("house", "windows"): 4, ("castle_tower", "windows"): 3,
    ("penguin", "feet"): 2, ("bookshelf", "shelves"): 3, ("tent", "poles"): 2,
}
"""How many of a plural part a category has, where the number is fixed."""

MAIN_PART: dict[str, str] = {
    "cactus": "stem", "flower": "petals", "tree": "canopy", "pine_tree": "needles", "mushroom": "cap",
    "lamp": "shade", "snowman": "body", "bed": "blanket", "tent": "canvas", "penguin": "body",
    "teddy_bear": "body", "rubber_duck": "body",
}
"""Which part carries the object's color among parts toyworld paints in the main color equally
often ("green cactus": the stem, not its arms); ``_part_palettes.main_part`` measures the rest."""

UNIFORM_PARTS: dict[str, frozenset[str]] = {
    "teddy_bear": frozenset({"head", "ears", "arms", "legs"}),
    "snowman": frozenset({"base", "head"}),
    "cactus": frozenset({"arms"}),
    "robot": frozenset({"head", "arms", "legs"}),
    "rubber_duck": frozenset({"head"}),
    "penguin": frozenset({"head"}),
    "fish": frozenset({"tail", "fin"}),
}
"""Parts that share the main part's material (a bear's fur, a snowman's snow); how often a part
shares its color is measured on toyworld (``_part_palettes``)."""

CATEGORY_MATERIALS: dict[str, tuple[str, ...]] = {
    "teddy_bear": ("fabric",), "robot": ("metal", "plastic"), "rubber_duck": ("rubber", "plastic"),
    "snowman": ("",), "penguin": ("plastic", "fabric"), "fish": ("plastic", "rubber"), "cactus": ("",),
    "flower": ("",), "mushroom": ("",), "tree": ("",), "pine_tree": ("",),
}
"""Materials of every part of these categories, except parts with their own (wheels, pots, trunks)."""

OWN_MATERIAL_PARTS = frozenset({"pot", "trunk", "wheels", "windows", "window", "lights", "lantern", "eyes",
                                "hat", "nose", "snout", "beak", "feet"})

MAIN_COLORS: dict[str, tuple[str, ...]] = {
    "teddy_bear": ("brown", "white", "pink"), "snowman": ("white",), "rubber_duck": ("yellow",),
    "penguin": ("black",), "fish": ("orange", "yellow", "blue"), "robot": ("gray", "white", "blue"),
    "cactus": ("green",), "tree": ("green",), "pine_tree": ("green",), "mushroom": ("red", "brown"),
}
"""Plausible colors of the main part where the part's own list would be wrong."""
