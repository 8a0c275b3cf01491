"""Plants: tree, pine tree, cactus, flower, mushroom."""

from __future__ import annotations

import math

from text3d.data.toyworld.declaration import CategoryInfo, category
from text3d.data.toyworld.shapes import Lathe, Part, cylinder, ellipsoid, place, sphere
from text3d.data.toyworld.style import Style


def _color_from(s: Style, options: tuple[str, ...], *avoid: str) -> str:
    """One of ``options`` that is none of ``avoid`` (the accent when all are avoided)."""
    pool = [c for c in options if c not in avoid]
    return s.choice(pool) if pool else s.accent


def _quarter(radius: float, height: float, base: float, steps: int = 5) -> list[tuple[float, float]]:
    """Profile points of a rounded top: a quarter ellipse from (radius, base) up to (0, base + height)."""
    points = []
    for k in range(1, steps + 1):
        a = math.pi / 2 * k / steps
        points.append((radius * math.cos(a) if k < steps else 0.0, base + height * math.sin(a)))
    return points


def _capsule(radius: float, length: float, round_bottom: bool = False) -> Lathe:
    """A rounded column from z = 0 to z = ``length`` (flat or rounded at the bottom)."""
    bottom: list[tuple[float, float]] = [(radius * 0.96, 0.0)]
    if round_bottom:
        quarter = [math.pi / 2 * k / 4 for k in range(1, 5)]
        bottom = [(0.0, 0.0)] + [(radius * math.sin(a), radius * (1 - math.cos(a))) for a in quarter]
    return Lathe(bottom + [(radius, length - radius)] + _quarter(radius, radius, length - radius), 20)


def _pot(s: Style, radius: float, height: float) -> tuple[list[Part], float]:
    """A tapered flower pot with a rim and soil; returns its parts and the soil height."""
    color = _color_from(s, ("orange", "orange", "brown", "white", "gray", s.accent), s.main)
    soil = "black" if "brown" in (color, s.main) else "brown"
    rim_r = radius * 1.12
    pot = Lathe([(radius * 0.78, 0.0), (radius, height * 0.78), (rim_r, height * 0.78), (rim_r, height)])
    soil_top = height + 0.01
    parts = [Part("pot", pot, color, "ceramic"),
             Part("pot", cylinder(radius * 0.98, 0.05), soil, "rubber", place(z=soil_top - 0.05))]
    return parts, soil_top


# --------------------------------------------------------------------------- tree
@category(CategoryInfo("tree", "plants", "tree", synonyms=("oak tree", "leafy tree"),
    paraphrases=("maple", "sapling"), test_paraphrases=("sycamore", "poplar", "beech"), parts=("trunk", "canopy"),
    shapes=("tall", "wide"), size_m=8.0, materials=("plastic", "wood"), main_part="canopy",
    typical_colors=("green",), one_material=True, named_material=False))
def tree(s: Style) -> list[Part]:
    """A brown trunk under a big round canopy (one ball, an oval or a cluster of balls)."""
    trunk_h = s.uniform(0.32, 0.4) * s.stretch("tall", 1.45)
    trunk_r = s.uniform(0.085, 0.105) * s.stretch("wide", 1.15)
    radius = s.uniform(0.32, 0.37) * s.stretch("wide", 1.3)
    trunk_color = "brown" if s.main != "brown" else s.choice(("black", "gray"))
    trunk = Lathe([(trunk_r * 1.5, 0.0), (trunk_r * 1.05, 0.07), (trunk_r * 0.9, trunk_h + radius * 0.5)])
    parts = [Part("trunk", trunk, trunk_color, "wood")]
    style = s.choice(("round", "oval", "cluster", "cluster"))
    s.facts["canopy"] = style
    if style == "round":  # a lollipop ball
        parts.append(Part("canopy", sphere(radius), s.main, s.material, place(z=trunk_h + radius * 0.85)))
        return parts
    if style == "oval":  # a tall egg with a ring of smaller balls around its lower half
        core_z = trunk_h + radius * 1.15
        parts.append(Part("canopy", ellipsoid(radius * 0.8, radius * 0.8, radius * 1.25), s.main, s.material,
                          place(z=core_z)))
        blob_z, blob_r, blobs = core_z - radius * 0.3, radius * 0.5, s.integer(3, 4)
        spread = radius * 0.55
    else:  # a cluster: a big ball with smaller ones around it
        core = radius * 0.78
        blob_z = trunk_h + core * 1.05
        parts.append(Part("canopy", sphere(core), s.main, s.material, place(z=blob_z + core * 0.35)))
        blob_r, blobs = core * 0.68, s.integer(3, 5)
        spread = core * 0.75
    s.facts["canopy_balls"] = blobs + 1
    phase = s.uniform(0, 360)
    for k in range(blobs):
        angle = math.radians(phase + 360 * k / blobs)
        parts.append(Part("canopy", sphere(blob_r * s.uniform(0.9, 1.1)), s.main, s.material,
                          place(x=spread * math.cos(angle), y=spread * math.sin(angle),
                                z=blob_z + s.uniform(-0.05, 0.05))))
    return parts


# --------------------------------------------------------------------------- pine tree
@category(CategoryInfo("pine_tree", "plants", "pine tree", synonyms=("fir tree", "pine"),
    paraphrases=("evergreen", "spruce"), test_paraphrases=("larch", "hemlock", "sequoia"), parts=("trunk", "needles"),
    shapes=("tall", "narrow"), size_m=10.0, materials=("plastic", "wood"), main_part="needles",
    typical_colors=("green",), one_material=True, named_material=False))
def pine_tree(s: Style) -> list[Part]:
    """A short trunk under a stack of cones that shrink toward the tip."""
    tiers = s.integer(3, 5)
    s.facts["tiers"] = tiers
    trunk_h = s.uniform(0.22, 0.27)
    base_r = s.uniform(0.32, 0.38) * s.stretch("narrow", 0.72)
    top = s.uniform(1.0, 1.1) * s.stretch("tall", 1.3)  # height of the tip
    shrink = s.uniform(0.5, 0.6)
    radii = [base_r * (1 - shrink * k / (tiers - 1)) for k in range(tiers)]
    heights = [r * (1.0 if k < tiers - 1 else 1.3) for k, r in enumerate(radii)]
    overlap = 0.55  # each tier starts this far up the one below
    scale = (top - trunk_h) / (overlap * sum(heights[:-1]) + heights[-1])
    trunk_color = "brown" if s.main != "brown" else s.choice(("black", "gray"))
    parts = [Part("trunk", cylinder(0.085, trunk_h + 0.1), trunk_color, "wood")]
    z = trunk_h
    for r, h in zip(radii, heights):
        h *= scale
        skirt = [(r, 0.0), (r * 0.68, h * 0.2), (0.0, h)]  # a slightly flared rim
        parts.append(Part("needles", Lathe(skirt), s.main, s.material, place(z=z)))
        z += h * overlap
    return parts


# --------------------------------------------------------------------------- cactus
@category(CategoryInfo("cactus", "plants", "cactus", synonyms=("potted cactus", "succulent"),
    paraphrases=("saguaro", "desert plant"), test_paraphrases=("agave", "ocotillo", "nopal"),
    parts=("pot", "stem", "arms"), shapes=("tall",), size_m=0.4, materials=("plastic", "ceramic", "fabric"),
    main_part="stem", shared_parts=("arms",), typical_colors=("green",), one_material=True, named_material=False))
def cactus(s: Style) -> list[Part]:
    """A rounded column in a pot with one to three bent arms."""
    pot_parts, soil = _pot(s, s.uniform(0.15, 0.18), s.uniform(0.2, 0.25))
    stem_r = s.uniform(0.09, 0.115)
    stem_h = s.uniform(0.55, 0.65) * s.stretch("tall", 1.35)
    parts = pot_parts + [Part("stem", _capsule(stem_r, stem_h), s.main, s.material, place(z=soil - 0.03))]
    arms = s.integer(1, 3)
    s.facts["arms"] = arms
    first_side = s.choice((0.0, 180.0))
    for k in range(arms):
        angle = first_side + (180.0 * k if k < 2 else 90.0) + s.uniform(-20, 20)
        arm_r = stem_r * s.uniform(0.68, 0.78)
        joint = soil + stem_h * s.uniform(0.3, 0.55) if k < 2 else soil + stem_h * 0.45
        reach = stem_r + arm_r + s.uniform(0.03, 0.07)
        rise = min(s.uniform(0.18, 0.3), soil + stem_h - joint - 0.02)
        frame = place(z=joint, rz=angle)
        parts.append(Part("stem", cylinder(arm_r * 0.92, reach, segments=16), s.main, s.material,
                          frame @ place(ry=90)))
        parts.append(Part("arms", _capsule(arm_r, rise + arm_r, round_bottom=True), s.main, s.material,
                          frame @ place(x=reach, z=-arm_r)))
    return parts


# --------------------------------------------------------------------------- flower
@category(CategoryInfo("flower", "plants", "flower", synonyms=("potted flower", "blossom"),
    paraphrases=("daisy", "bloom"), test_paraphrases=("poppy", "peony", "zinnia"),
    parts=("pot", "stem", "petals", "center"), shapes=("tall",), size_m=0.3,
    materials=("plastic", "fabric", "ceramic"), main_part="petals", one_material=True, named_material=False))
def flower(s: Style) -> list[Part]:
    """A potted flower: stem with leaves and a head of petals around a center, facing forward."""
    pot_parts, soil = _pot(s, s.uniform(0.11, 0.13), s.uniform(0.16, 0.2))
    stem_h = s.uniform(0.38, 0.46) * s.stretch("tall", 1.4)
    green = "green" if s.main != "green" else s.choice(("teal", "brown"))
    stem = cylinder(0.04, stem_h, segments=12)
    parts = pot_parts + [Part("stem", stem, green, "plastic", place(z=soil - 0.03))]
    leaves = s.integer(1, 2)
    s.facts["leaves"] = leaves
    first_side = s.choice((1, -1))
    for k in range(leaves):
        side = first_side if k == 0 else -first_side
        z = soil + stem_h * (0.3 + 0.2 * k)
        parts.append(Part("stem", ellipsoid(0.12, 0.055, 0.03, rings=8, segments=14), green, "plastic",
                          place(x=side * 0.1, z=z + 0.04, ry=-side * 30)))
    tilt = s.uniform(30, 50)  # the head looks forward and up
    head = place(z=soil + stem_h - 0.02, rx=-(90 - tilt))
    center_r = s.uniform(0.075, 0.09)
    center_color = _color_from(s, ("yellow", "yellow", "orange", "brown", "white", s.accent), s.main)
    petals = s.integer(5, 8)
    s.facts["petals"] = petals
    petal_len = s.uniform(0.12, 0.15)
    petal_w = petal_len * s.uniform(0.55, 0.75)
    petal = ellipsoid(petal_len, petal_w, 0.03, rings=8, segments=16)
    phase = s.uniform(0, 360 / petals)
    for k in range(petals):
        parts.append(Part("petals", petal, s.main, s.material,
                          head @ place(rz=phase + 360 * k / petals) @ place(x=center_r + petal_len * 0.7)))
    parts.append(Part("center", ellipsoid(center_r, center_r, 0.055, rings=8, segments=18), center_color,
                      s.material, head @ place(z=0.015)))
    return parts


# --------------------------------------------------------------------------- mushroom
def _mushroom(s: Style, scale: float, at: tuple[float, float], spots: int,
              spot_color: str) -> tuple[list[Part], float]:
    """One mushroom at ``at``: a bulging stem under a domed, spotted cap; returns parts and cap radius."""
    x, y = at
    stem_h = s.uniform(0.34, 0.42) * s.stretch("tall", 1.4) * scale
    stem_r = s.uniform(0.11, 0.14) * scale
    cap_r = s.uniform(0.38, 0.44) * s.stretch("wide", 1.25) * scale
    dome = cap_r * s.uniform(0.5, 0.75)
    rim = 0.05 * scale  # the gills: a shallow cone under the cap
    lip = 0.035 * scale
    base = stem_h - 0.02 * scale
    stem = Lathe([(stem_r * 1.2, 0.0), (stem_r * 1.22, 0.05 * scale), (stem_r, stem_h * 0.55),
                  (stem_r * 0.85, stem_h + 0.02 * scale)], 20)
    underside = [(stem_r * 0.8, 0.0), (cap_r * 0.96, rim), (cap_r, rim + lip)]
    cap = Lathe(underside + _quarter(cap_r, dome, rim + lip, 7))
    parts = [Part("stem", stem, "white", "ceramic", place(x=x, y=y)),
             Part("cap", cap, s.main, s.material, place(x=x, y=y, z=base))]
    spot_r = cap_r * s.uniform(0.15, 0.19)
    spot = ellipsoid(spot_r, spot_r, 0.03 * scale + 0.006, rings=6, segments=12)
    phase = s.uniform(0, 360)
    ring = spots - 1 if spots > 4 else spots  # with many spots, one sits on the very top
    for k in range(spots):
        if k < ring:
            elevation = math.radians(30 if k % 2 else 55) + s.uniform(-0.08, 0.08)
        else:
            elevation = math.pi / 2
        azimuth = phase + 360 * k / ring
        tilt = math.degrees(math.atan2(math.cos(elevation) / cap_r, math.sin(elevation) / dome))
        on_cap = place(x=cap_r * math.cos(elevation), z=rim + lip + dome * math.sin(elevation), ry=tilt)
        parts.append(Part("spots", spot, spot_color, s.material,
                          place(x=x, y=y, z=base, rz=azimuth) @ on_cap))
    return parts, cap_r


@category(CategoryInfo("mushroom", "plants", "mushroom", synonyms=("toadstool",),
    paraphrases=("fungus", "champignon"), test_paraphrases=("truffle", "porcini", "shiitake"),
    parts=("stem", "cap", "spots"), shapes=("tall", "wide"), size_m=0.1,
    materials=("plastic", "ceramic", "fabric", "wood"), main_part="cap", typical_colors=("red", "brown"),
    one_material=True, named_material=False))
def mushroom(s: Style) -> list[Part]:
    """A toadstool: white stem, a round cap with spots; sometimes a small one beside it."""
    spot_color = "white" if s.main != "white" and s.chance(0.8) else s.accent
    spots = s.integer(4, 7)
    parts, cap_r = _mushroom(s, 1.0, (0.0, 0.0), spots, spot_color)
    if s.chance(0.35):
        s.facts["mushrooms"] = 2
        small_spots = max(1, min(s.integer(2, 3), 8 - spots))  # captions spell counts up to eight
        spots += small_spots
        angle = math.radians(90 + s.choice((1, -1)) * 55 + s.uniform(-10, 10))  # in front, to one side
        reach = cap_r + 0.16
        small, _ = _mushroom(s, 0.5, (reach * math.cos(angle), reach * math.sin(angle)), small_spots,
                             spot_color)
        parts += small
    s.facts["spots"] = spots
    return parts
