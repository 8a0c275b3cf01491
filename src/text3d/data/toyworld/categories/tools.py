"""Tools: hammer, screwdriver, axe, shovel.

Tools stand upright on z = 0 with their working end in the xz plane, so the 3/4 camera
sees their outline: hammer and axe heads on top, the shovel blade at the bottom, the
screwdriver on its handle. Shafts are chunky (toy-like) so they survive a 32³ grid.
"""

from __future__ import annotations

import numpy as np

from text3d.data.toyworld.categories.toys import aim, capsule, ccw, contrast
from text3d.data.toyworld.declaration import CategoryInfo, category
from text3d.data.toyworld.shapes import Box, Extrusion, Lathe, Part, cylinder, place, sphere
from text3d.data.toyworld.style import Style


def _band(profile: list[tuple[float, float]], low: float, high: float, grow: float = 1.06) -> Lathe:
    """A ring hugging a lathe profile between heights ``low`` and ``high``, ``grow`` times wider."""
    zs = np.linspace(low, high, 3)
    radii = np.interp(zs, [z for _, z in profile], [r for r, _ in profile]) * grow
    return Lathe([(float(r), float(z)) for r, z in zip(radii, zs)], 16)


def _handle(s: Style, length: float, radius: float, knob: float, color: str, material: str) -> list[Part]:
    """An upright tool handle from z = 0 to ``length`` with a flared end, maybe a rubber grip."""
    profile = [(radius * knob, 0.0), (radius * knob, 0.04), (radius * 1.05, 0.12), (radius, length * 0.6),
               (radius * 0.95, length)]
    parts = [Part("handle", Lathe(profile, 16), color, material)]
    if s.chance(0.4):
        s.facts["grip"] = True
        grip_color = contrast(s, s.choice(("black", s.accent)), "black")
        parts.append(Part("handle", _band(profile, 0.05, length * 0.35), grip_color, "rubber"))
    return parts


@category(CategoryInfo("hammer", "tools", "hammer", synonyms=("mallet", "claw hammer"),
    paraphrases=("sledge", "gavel"), test_paraphrases=("peen", "beetle"), parts=("handle", "head"),
    size_m=0.3, materials=("wood", "plastic", "rubber")))
def hammer(s: Style) -> list[Part]:
    """A hammer standing on its handle: a claw hammer with a metal head, or a round mallet."""
    length = s.uniform(0.78, 0.9)
    radius = s.uniform(0.055, 0.065)
    parts = _handle(s, length, radius, 1.2, s.main, s.material)
    head_z = length - 0.05
    if s.chance(0.65):
        s.facts["head"] = "claw"
        color, material = (s.main, s.material) if s.chance(0.5) else (contrast(s, "gray", "black"), "metal")
        claw = ccw([(-0.1, 0.07), (-0.2, 0.05), (-0.3, 0.0), (-0.37, -0.1), (-0.3, -0.08), (-0.2, -0.04),
                    (-0.1, -0.06)])
        parts += [
            Part("head", Box(0.22, 0.12, 0.14), color, material, place(x=0.01, z=head_z)),
            Part("head", cylinder(0.078, 0.15, segments=16), color, material,
                 place(x=0.1, z=head_z, ry=90.0)),
            Part("head", Extrusion(claw, 0.1), color, material, place(z=head_z, rx=90.0)),
        ]
    else:
        s.facts["head"] = "mallet"
        head_r, head_len = s.uniform(0.11, 0.14), s.uniform(0.38, 0.46)
        parts.append(Part("head", cylinder(head_r, head_len, segments=20), s.main, s.material,
                          place(x=-head_len / 2, z=head_z, ry=90.0)))
        if s.chance(0.5):
            s.facts["caps"] = True
            cap_color = contrast(s, s.accent, "white")
            parts += [Part("head", cylinder(head_r * 1.03, 0.05, segments=20), cap_color, "rubber",
                           place(x=x, z=head_z, ry=90.0))
                      for x in (-head_len / 2 - 0.01, head_len / 2 - 0.04)]
    return parts


@category(CategoryInfo("screwdriver", "tools", "screwdriver", synonyms=("driver", "screw driver"),
    paraphrases=("turnscrew", "hex driver"), test_paraphrases=("flathead", "nutdriver"),
    parts=("handle", "shaft", "tip"), size_m=0.2, materials=("plastic", "rubber", "wood")))
def screwdriver(s: Style) -> list[Part]:
    """A screwdriver on its fat handle: a metal shaft with a flat or a cross tip on top."""
    handle_len = s.uniform(0.34, 0.4)
    radius = s.uniform(0.085, 0.1)
    profile = [(radius * 0.85, 0.0), (radius, 0.04), (radius, handle_len * 0.72),
               (radius * 0.78, handle_len * 0.9), (radius * 0.55, handle_len)]
    parts = [Part("handle", Lathe(profile, 20), s.main, s.material)]
    bands = s.choice((0, 0, 1, 2))
    band_color = contrast(s, s.choice((s.accent, "black")), "black")
    for k in range(bands):
        low = handle_len * (0.12 + 0.3 * k)
        parts.append(Part("handle", _band(profile, low, low + 0.06, 1.05), band_color, "rubber"))
    if bands:
        s.facts["bands"] = bands
    shaft_len = s.uniform(0.4, 0.55)
    shaft_r = 0.034
    top = handle_len + shaft_len
    parts += [
        Part("shaft", Lathe([(radius * 0.56, 0.0), (0.05, 0.05), (shaft_r, 0.08)], 16), "gray", "metal",
             place(z=handle_len - 0.01)),
        Part("shaft", cylinder(shaft_r, shaft_len, segments=12), "gray", "metal", place(z=handle_len)),
    ]
    tip_color = s.choice(("black", "gray"))
    if s.chance(0.5):
        s.facts["tip"] = "flat"
        blade = [(-shaft_r, 0.0), (shaft_r, 0.0), (0.05, 0.07), (0.05, 0.1), (-0.05, 0.1), (-0.05, 0.07)]
        parts.append(Part("tip", Extrusion(blade, 0.056), tip_color, "metal", place(z=top - 0.01, rx=90.0)))
    else:
        s.facts["tip"] = "cross"
        parts.append(Part("tip", Lathe([(shaft_r * 1.05, 0.0), (shaft_r * 1.05, 0.03), (0.012, 0.11)], 12),
                          tip_color, "metal", place(z=top - 0.01)))
    return parts


@category(CategoryInfo("axe", "tools", "axe", synonyms=("hatchet", "ax"), paraphrases=("tomahawk", "cleaver"),
    test_paraphrases=("adze", "poleaxe", "battleaxe"), parts=("handle", "blade"), size_m=0.6,
    materials=("wood", "plastic", "metal")))
def axe(s: Style) -> list[Part]:
    """An axe standing on its handle: a wedge-shaped blade (sometimes double) with a bright edge."""
    length = s.uniform(0.85, 1.0)
    parts = _handle(s, length, s.uniform(0.05, 0.058), 1.4, s.main, s.material)
    head_z = length - 0.1
    bit, flare = s.uniform(0.28, 0.34), s.uniform(0.13, 0.18)
    double = s.chance(0.25)
    painted = s.chance(0.5)
    blade_color, blade_material = (s.main, "metal") if painted else (contrast(s, "gray", "black"), "metal")
    edge_color = "white" if blade_color != "white" else "gray"
    sides = (1.0, -1.0) if double else (1.0,)
    cut = bit - 0.07  # where the bright cutting edge begins
    low = float(np.interp(cut, [0.0, bit - 0.03], [-0.07, -flare]))
    high = float(np.interp(cut, [0.0, bit - 0.03], [0.08, flare]))
    cheek = [(0.0, -0.07), (cut, low), (cut, high), (0.0, 0.08)]
    if not double:
        cheek += [(-0.13, 0.08), (-0.13, -0.07)]  # the poll behind the eye
    edge = [(cut, low), (bit - 0.03, -flare), (bit + 0.015, -flare * 0.5), (bit + 0.03, 0.0),
            (bit + 0.015, flare * 0.5), (bit - 0.03, flare), (cut, high)]
    for side in sides:
        parts.append(Part("blade", Extrusion(ccw([(side * x, z) for x, z in cheek]), 0.075), blade_color,
                          blade_material, place(z=head_z, rx=90.0)))
    for side in sides:
        strip = Extrusion(ccw([(side * x, z) for x, z in edge]), 0.06)
        parts.append(Part("blade", strip, edge_color, "metal", place(z=head_z, rx=90.0)))
    s.facts["double_bit"] = double
    return parts


@category(CategoryInfo("shovel", "tools", "shovel", synonyms=("spade",), paraphrases=("scoop", "trowel"),
    test_paraphrases=("digger", "entrencher", "mattock"), parts=("handle", "grip", "blade"), size_m=1.0,
    materials=("metal", "plastic")))
def shovel(s: Style) -> list[Part]:
    """A shovel standing on its blade: pointed or square blade, a long handle, a D- or T-grip."""
    width, height = s.uniform(0.38, 0.46), s.uniform(0.38, 0.46)
    if s.chance(0.6):
        s.facts["blade"] = "pointed"
        outline = [(0.0, 0.0), (width * 0.3, height * 0.08), (width * 0.47, height * 0.3),
                   (width / 2, height), (-width / 2, height), (-width * 0.47, height * 0.3),
                   (-width * 0.3, height * 0.08)]
    else:
        s.facts["blade"] = "square"
        outline = [(-width * 0.42, 0.0), (width * 0.42, 0.0), (width / 2, height * 0.12), (width / 2, height),
                   (-width / 2, height), (-width / 2, height * 0.12)]
    handle_color, handle_material = ("brown", "wood") if s.chance(0.5) else (s.main, s.material)
    grip_color = contrast(s, s.choice(("black", s.accent)), "black")
    handle_len = s.uniform(0.6, 0.72)
    top = height + handle_len
    parts = [
        Part("blade", Extrusion(ccw(outline), 0.075), s.main, s.material, place(rx=90.0)),
        Part("blade", Box(width, 0.1, 0.055), s.main, s.material, place(z=height)),
        Part("blade", Lathe([(0.075, 0.0), (0.052, 0.18)], 16), s.main, s.material, place(z=height - 0.02)),
        Part("handle", cylinder(0.042, handle_len, segments=16), handle_color, handle_material,
             place(z=height)),
    ]
    if s.chance(0.6):
        s.facts["grip"] = "D"
        rise, half = 0.17, 0.1
        for side in (-1.0, 1.0):
            transform, length = aim((0.0, 0.0, top - 0.03), (side * half, 0.0, top + rise))
            parts.append(Part("grip", cylinder(0.035, length, segments=10), grip_color, "plastic", transform))
        transform, length = aim((-half - 0.045, 0.0, top + rise), (half + 0.045, 0.0, top + rise))
        parts.append(Part("grip", capsule(0.045, length, segments=12), grip_color, "plastic", transform))
    elif s.chance(0.6):
        s.facts["grip"] = "T"
        transform, length = aim((-0.13, 0.0, top + 0.02), (0.13, 0.0, top + 0.02))
        parts.append(Part("grip", capsule(0.05, length, segments=12), grip_color, "plastic", transform))
    else:
        s.facts["grip"] = "knob"
        parts.append(Part("grip", sphere(0.075, rings=8, segments=14), grip_color, "plastic",
                          place(z=top + 0.04)))
    return parts
