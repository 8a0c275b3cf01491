"""toyworld's parts: how each part plausibly looks, which parts repeat, which have their own material.

Parts are named by the category declarations (:class:`text3d.data.toyworld.declaration.CategoryInfo`);
this table says, once per part name, which palette colors, materials and shape words describe it
(the embedded augmenter's captions draw on it). Only toyworld's words appear here (palette colors,
material names), so a caption never names an attribute the procedural dataset cannot show. A part
that is not listed falls back to any palette color and its category's materials.
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
"""Part name → how it plausibly looks; ``body``'s materials come from the category group
(:data:`GROUP_MATERIALS`) or the category (``CategoryInfo.one_material``)."""

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
"""Materials a caption names for a part whose look lists none ("" names none), by category group."""

OWN_MATERIAL_PARTS: frozenset[str] = frozenset({"pot", "trunk", "wheels", "windows", "window", "lights", "lantern",
                                                "eyes", "hat", "nose", "snout", "beak", "feet"})
"""Parts with a material of their own, whatever the object is made of."""

COUNTABLE_PARTS = frozenset({"legs", "wheels", "windows", "fins", "blocks", "block", "books", "blades", "arms",
                             "engines", "spots", "petals", "eyes", "ears", "feet", "cushions"})
"""Parts that really repeat (legs, wheels), so texts count them; other repeated pieces are one part."""
