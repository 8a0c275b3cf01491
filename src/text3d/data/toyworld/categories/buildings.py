"""Buildings: house, castle tower, lighthouse, windmill, tent."""

from __future__ import annotations

import math

from text3d.data.toyworld.declaration import CategoryInfo, category
from text3d.data.toyworld.shapes import Box, Extrusion, Lathe, Part, cylinder, place, sphere
from text3d.data.toyworld.style import Style


def _color_from(s: Style, options: tuple[str, ...], *avoid: str) -> str:
    """One of ``options`` that is none of ``avoid`` (the accent when all are avoided)."""
    pool = [c for c in options if c not in avoid]
    return s.choice(pool) if pool else s.accent


def _glass(s: Style) -> str:
    """Window glass: teal or black, never the main color."""
    return _color_from(s, ("teal", "black", "teal"), s.main)


def _arch(width: float, height: float, steps: int = 6) -> list[tuple[float, float]]:
    """Counter-clockwise outline of an arched doorway standing on z = 0."""
    half = width / 2
    spring = height - half
    arc = [(half * math.cos(math.pi * k / steps), spring + half * math.sin(math.pi * k / steps))
           for k in range(steps + 1)]
    return [(-half, 0.0), (half, 0.0)] + arc


# --------------------------------------------------------------------------- house
@category(CategoryInfo("house", "buildings", "house", synonyms=("cottage", "home"),
    paraphrases=("bungalow", "dwelling"), test_paraphrases=("chalet", "homestead", "manor"),
    parts=("walls", "roof", "door", "windows", "chimney"), shapes=("tall", "wide"), size_m=8.0,
    materials=("wood", "stone", "plastic")))
def house(s: Style) -> list[Part]:
    """Box walls under a gabled roof, a front door, windows and maybe a chimney."""
    width = s.uniform(0.74, 0.86) * s.stretch("wide", 1.3)
    depth = s.uniform(0.56, 0.64)
    wall_h = s.uniform(0.4, 0.48) * s.stretch("tall", 1.5)
    ridge = s.uniform(0.24, 0.33)  # height of the roof's inner apex above the walls
    overhang, fascia = 0.075, 0.04
    roof_color = _color_from(s, (s.accent, "red", "brown", "black", "gray", s.accent), s.main)
    eave = depth / 2 + overhang
    peak = ridge * eave / (depth / 2)  # outer apex: both slabs keep an even thickness
    # the roof is a chevron (two slabs); a wall-colored gable fills the space under it
    roof_outline = [(-eave, -fascia), (-depth / 2, -fascia), (-depth / 2, 0.0), (0.0, ridge),
                    (depth / 2, 0.0), (depth / 2, -fascia), (eave, -fascia), (eave, 0.0), (0.0, peak),
                    (-eave, 0.0)]
    gable = [(-depth / 2, 0.0), (depth / 2, 0.0), (0.0, ridge)]
    along_x = {"rz": 90, "rx": 90}  # an Extrusion's outline then lies in (y, z) and its depth along x
    parts = [
        Part("walls", Box(width, depth, wall_h), s.main, s.material, place(z=wall_h / 2)),
        Part("walls", Extrusion(gable, width), s.main, s.material, place(z=wall_h, **along_x)),
        Part("roof", Extrusion(roof_outline, width + 2 * overhang), roof_color, s.material,
             place(z=wall_h, **along_x)),
    ]
    door_w, door_h = 0.17, min(0.3, wall_h * 0.64)
    door_x = s.choice((0.0, 0.0, -width * 0.22, width * 0.22))
    door_color = _color_from(s, ("brown", s.accent, "white"), s.main)
    parts.append(Part("door", Box(door_w, 0.06, door_h), door_color, "wood",
                      place(x=door_x, y=depth / 2 + 0.01, z=door_h / 2)))
    glass = _glass(s)
    pane = 0.13
    front_y = depth / 2 + 0.01
    beside_door = [x for x in (-width * 0.3, width * 0.3, -width * 0.06, width * 0.06)
                   if abs(x - door_x) > door_w / 2 + pane / 2 + 0.03][:2]
    if s.shape == "tall":  # two floors: windows beside the door, a full row above
        spots = [(x, front_y, wall_h * 0.3) for x in beside_door]
        upper = s.integer(2, 3)
        spots += [(width * 0.3 * (2 * k / (upper - 1) - 1), front_y, wall_h * 0.73) for k in range(upper)]
    else:
        spots = [(x, front_y, wall_h * 0.55) for x in beside_door]
    if s.chance(0.6):  # one window in each side wall
        spots += [(sign * (width / 2 + 0.01), 0.0, wall_h * 0.55) for sign in (1, -1)]
    if s.chance(0.5):
        spots.append((0.0, -front_y, wall_h * 0.55))
    for x, y, z in spots:
        box = Box(0.06, pane, pane) if abs(y) < depth / 2 else Box(pane, 0.06, pane)
        parts.append(Part("windows", box, glass, "glass", place(x=x, y=y, z=z)))
    s.facts["windows"] = len(spots)
    if s.chance(0.65):
        s.facts["chimney"] = True
        cx = s.choice((-1, 1)) * width * s.uniform(0.18, 0.3)
        cy = s.choice((-1, 1)) * depth * 0.16
        top = wall_h + peak * (1 - abs(cy) / eave) + s.uniform(0.12, 0.18)
        chimney_color = _color_from(s, ("red", "gray", "brown", "black"), s.main, roof_color)
        parts.append(Part("chimney", Box(0.11, 0.11, top - wall_h), chimney_color, "stone",
                          place(x=cx, y=cy, z=(top + wall_h) / 2)))
    return parts


# --------------------------------------------------------------------------- castle tower
@category(CategoryInfo("castle_tower", "buildings", "castle tower", synonyms=("tower", "turret"),
    paraphrases=("keep", "fortress tower"), test_paraphrases=("donjon", "bastion", "belfry"),
    parts=("tower", "battlements", "door", "windows"), shapes=("tall", "wide"), size_m=15.0,
    materials=("stone", "wood", "plastic")))
def castle_tower(s: Style) -> list[Part]:
    """A round tower with a corbelled parapet crowned by merlons, an arched door and slits."""
    radius = s.uniform(0.25, 0.3) * s.stretch("wide", 1.3)
    height = s.uniform(0.72, 0.85) * s.stretch("tall", 1.35)
    plinth = radius + 0.035
    parapet_r = radius + s.uniform(0.04, 0.06)
    band = s.uniform(0.08, 0.11)
    parts = [Part("tower", Lathe([(plinth, 0.0), (plinth, 0.07), (radius, 0.1), (radius, height)]), s.main,
                  s.material)]
    crown_color = s.main if s.chance(0.55) else _color_from(s, (s.accent, "gray", "white"), s.main)
    parts.append(Part("battlements", Lathe([(radius, 0.0), (parapet_r, 0.06), (parapet_r, 0.06 + band)]),
                      crown_color, s.material, place(z=height)))
    merlons = s.integer(6, 9)
    s.facts["merlons"] = merlons
    merlon_w = 2 * math.pi * parapet_r / (2 * merlons) * 1.1
    merlon_h = s.uniform(0.09, 0.12)
    merlon_depth = 0.09
    top = height + 0.06 + band
    phase = s.uniform(0, 360 / merlons)
    for k in range(merlons):
        parts.append(Part("battlements", Box(merlon_w, merlon_depth, merlon_h), crown_color, s.material,
                          place(z=top + merlon_h / 2, rz=phase + 360 * k / merlons - 90)
                          @ place(y=parapet_r - merlon_depth / 2)))
    door_h = min(0.3, height * 0.38)
    door_color = _color_from(s, ("brown", "black", s.accent), s.main)
    parts.append(Part("door", Extrusion(_arch(0.17, door_h), 0.08), door_color, "wood",
                      place(y=radius + 0.025, rx=90)))  # upright (rx=90), its back sunk into the wall
    windows = s.integer(2, 3) + (1 if s.shape == "tall" else 0)
    s.facts["windows"] = windows
    slit_color = "yellow" if s.main in ("black", "brown") else "black"  # lit slits on dark walls
    for k in range(windows):
        if k == windows - 1 and windows > 2:
            angle, z = 180 + s.uniform(-30, 30), height * 0.6  # one slit looks out of the back
        else:
            spread = windows - 1 if windows > 2 else windows
            angle = -55 + 110 * (k + 0.5) / spread + s.uniform(-8, 8)
            z = height * s.uniform(0.45, 0.85)
        parts.append(Part("windows", Box(0.07, 0.08, 0.16), slit_color, "glass",
                          place(z=z, rz=angle) @ place(y=radius - 0.02)))
    return parts


# --------------------------------------------------------------------------- lighthouse
@category(CategoryInfo("lighthouse", "buildings", "lighthouse", synonyms=("beacon tower", "light tower"),
    paraphrases=("pharos", "coastal beacon"), test_paraphrases=("seamark", "daymark"),
    parts=("tower", "stripes", "lantern", "roof"), shapes=("tall",), size_m=20.0,
    materials=("stone", "plastic", "wood")))
def lighthouse(s: Style) -> list[Part]:
    """A tall tapered striped tower with a gallery, a glowing lantern room and a domed roof."""
    height = s.uniform(0.82, 0.95) * s.stretch("tall", 1.3)
    r_bottom = s.uniform(0.2, 0.23)
    r_top = r_bottom * s.uniform(0.62, 0.7)

    def radius_at(z: float) -> float:
        return r_bottom + (r_top - r_bottom) * z / height

    stripe_color = s.accent if s.chance(0.6) else _color_from(s, ("red", "white", "black"), s.main)
    stripes = s.integer(2, 4)
    s.facts["stripes"] = stripes
    # the tower is a stack of frustum bands, main and (a little narrower) stripe bands in turn
    unit = height / (stripes + 1 + 0.75 * stripes)
    parts = []
    z0 = 0.0
    for k in range(2 * stripes + 1):
        name, color, band = ("tower", s.main, unit) if k % 2 == 0 else ("stripes", stripe_color, 0.75 * unit)
        frustum = Lathe([(radius_at(z0), 0.0), (radius_at(z0 + band), band)])
        parts.append(Part(name, frustum, color, s.material, place(z=z0)))
        z0 += band
    if s.chance(0.4):
        s.facts["base"] = True
        rock = _color_from(s, ("gray", "black", "brown"), s.main)
        parts.append(Part("tower", cylinder(r_bottom + 0.06, 0.07), rock, "stone"))
    trim = _color_from(s, ("black", "gray", "white"), s.main, stripe_color)
    gallery_r = r_top + 0.055
    parts.append(Part("tower", cylinder(gallery_r, 0.05), trim, "metal", place(z=height)))
    lantern_r = r_top * 0.8
    lantern_h = s.uniform(0.15, 0.19)
    light = _color_from(s, ("yellow", "yellow", "white", "orange"), s.main)
    parts.append(Part("lantern", cylinder(lantern_r, lantern_h), light, "glass", place(z=height + 0.05)))
    roof_z = height + 0.05 + lantern_h
    roof_color = stripe_color if s.chance(0.5) else trim
    roof_r = lantern_r + 0.04
    if s.chance(0.5):
        s.facts["roof"] = "dome"
        profile = [(roof_r, 0.0), (roof_r, 0.02)] + [(roof_r * math.cos(a), 0.02 + 0.11 * math.sin(a))
                                                     for a in (0.5, 0.9, 1.25)] + [(0.0, 0.13)]
    else:
        s.facts["roof"] = "cone"
        profile = [(roof_r, 0.0), (roof_r, 0.025), (0.0, 0.16)]
    parts.append(Part("roof", Lathe(profile), roof_color, "metal", place(z=roof_z)))
    parts.append(Part("roof", sphere(0.035, rings=6, segments=10), roof_color, "metal",
                      place(z=roof_z + profile[-1][1] + 0.02)))
    return parts


# --------------------------------------------------------------------------- windmill
def _sail(length: float, width: float, spar: float) -> Extrusion:
    """Outline of one windmill blade along +y: a spar with a sail on its trailing side."""
    root = length * 0.2
    return Extrusion([(-spar / 2, 0.0), (spar / 2, 0.0), (spar / 2, root), (spar / 2 + width, root),
                      (spar / 2 + width, length), (-spar / 2 - 0.02, length), (-spar / 2 - 0.02, root),
                      (-spar / 2, root)], 0.065)


@category(CategoryInfo("windmill", "buildings", "windmill", synonyms=("wind mill", "mill"),
    paraphrases=("wind turbine", "grain mill"), test_paraphrases=("windpump", "gristmill", "aerogenerator"),
    parts=("tower", "cap", "blades"), shapes=("tall",), size_m=12.0, materials=("wood", "stone", "plastic"),
    counts=(("blades", 4),)))
def windmill(s: Style) -> list[Part]:
    """A tapered tower with a cap and four big blades turning in front of it."""
    height = s.uniform(0.7, 0.8) * s.stretch("tall", 1.3)
    r_bottom = s.uniform(0.24, 0.28)
    r_top = r_bottom * s.uniform(0.62, 0.72)
    parts = [Part("tower", Lathe([(r_bottom, 0.0), (r_top, height)]), s.main, s.material)]
    if s.chance(0.4):
        s.facts["gallery"] = True
        z = height * 0.35
        r = r_bottom + (r_top - r_bottom) * 0.35
        deck = _color_from(s, ("brown", "gray", "black"), s.main)
        parts.append(Part("tower", cylinder(r + 0.06, 0.045), deck, "wood", place(z=z)))
    cap_color = _color_from(s, (s.accent, "brown", "gray", "black", "red"), s.main)
    cap_r = r_top + 0.04
    if s.chance(0.5):
        s.facts["cap"] = "dome"
        dome = [(cap_r * math.cos(a), 0.04 + cap_r * 0.9 * math.sin(a)) for a in (0.45, 0.9, 1.3)]
        cap = Lathe([(cap_r, 0.0), (cap_r, 0.04)] + dome + [(0.0, 0.04 + cap_r * 0.9)])
        cap_place = place(z=height)
    else:
        s.facts["cap"] = "gabled"
        half = cap_r + 0.02
        cap = Extrusion([(-half, 0.0), (half, 0.0), (half, 0.05), (0.0, cap_r * 1.05), (-half, 0.05)],
                        2 * cap_r + 0.06)
        cap_place = place(z=height, rx=90)
    parts.append(Part("cap", cap, cap_color, s.material, cap_place))
    hub_z = height + 0.07
    blade_y = r_bottom + 0.07
    parts.append(Part("cap", cylinder(0.05, blade_y + 0.03 - r_top * 0.5), cap_color, "wood",
                      place(y=r_top * 0.5, z=hub_z, rx=-90)))
    length = min(hub_z - 0.04, s.uniform(0.48, 0.56))
    blade_color = _color_from(s, ("white", "white", "brown", s.accent), s.main, cap_color)
    tilt = s.uniform(0, 45)
    sail = _sail(length, s.uniform(0.11, 0.15), 0.06)
    for k in range(4):
        parts.append(Part("blades", sail, blade_color, "wood",
                          place(y=blade_y, z=hub_z, ry=tilt + 90 * k, rx=90)))
    s.facts["blades"] = 4
    return parts


# --------------------------------------------------------------------------- tent
@category(CategoryInfo("tent", "buildings", "tent", synonyms=("camping tent", "pup tent"),
    paraphrases=("teepee", "shelter"), test_paraphrases=("marquee", "gazebo", "bivouac"),
    parts=("canvas", "door", "poles"), shapes=("wide", "tall"), size_m=1.5, materials=("fabric", "plastic"),
    main_part="canvas"))
def tent(s: Style) -> list[Part]:
    """A ridge tent (triangular prism) or a teepee (cone), with a door flap and poles."""
    if s.chance(0.6):
        return _ridge_tent(s)
    return _teepee(s)


def _door(s: Style, half_width: float, height: float, thickness: float) -> list[tuple[Extrusion, str]]:
    """Triangular door shapes and colors: closed (one flap) or open (dark gap and a tied-back flap)."""
    flap = _color_from(s, (s.accent, "white", "brown"), s.main)
    if s.chance(0.5):
        s.facts["door"] = "open"
        gap = Extrusion([(-half_width, 0.0), (half_width, 0.0), (0.0, height)], thickness * 0.6)
        tied_back = Extrusion([(-half_width, 0.0), (-half_width * 0.3, 0.0), (0.0, height)], thickness)
        return [(gap, "black"), (tied_back, flap)]
    s.facts["door"] = "closed"
    return [(Extrusion([(-half_width, 0.0), (half_width, 0.0), (0.0, height)], thickness), flap)]


def _ridge_tent(s: Style) -> list[Part]:
    """A triangular prism tent with its door on the front gable and A-frame poles at both ends."""
    s.facts["style"] = "ridge"
    half = s.uniform(0.36, 0.42) * s.stretch("wide", 1.3)
    height = s.uniform(0.5, 0.58) * s.stretch("tall", 1.35)
    length = s.uniform(0.85, 1.0)
    parts = [Part("canvas", Extrusion([(-half, 0.0), (half, 0.0), (0.0, height)], length), s.main, s.material,
                  place(rx=90))]
    for shape, color in _door(s, half * 0.5, height * 0.72, 0.04):
        parts.append(Part("door", shape, color, "fabric", place(y=length / 2, rx=90)))
    pole_color = _color_from(s, ("brown", "gray", "black"), s.main)
    slant = math.hypot(half, height) + 0.1
    lean = math.degrees(math.atan2(half, height))
    for y in (length / 2 - 0.025, -length / 2 + 0.025):
        for side in (-1, 1):
            parts.append(Part("poles", cylinder(0.04, slant, segments=10), pole_color, "wood",
                              place(x=side * half, y=y, ry=-side * lean)))
    s.facts["poles"] = 4
    return parts


def _teepee(s: Style) -> list[Part]:
    """A cone tent with a slanted door flap and poles fanning out of its tip."""
    s.facts["style"] = "teepee"
    radius = s.uniform(0.4, 0.46) * s.stretch("wide", 1.25)
    height = s.uniform(0.82, 0.95) * s.stretch("tall", 1.2)
    parts = [Part("canvas", Lathe([(radius, 0.0), (0.0, height)]), s.main, s.material)]
    slope = math.degrees(math.atan2(radius, height))
    slant = math.hypot(radius, height)
    for shape, color in _door(s, radius * 0.38, slant * 0.45, 0.05):
        parts.append(Part("door", shape, color, "fabric", place(y=radius - 0.012, rx=90 + slope)))
    poles = s.integer(4, 6)
    s.facts["poles"] = poles
    pole_color = _color_from(s, ("brown", "gray", "black"), s.main)
    phase = s.uniform(0, 360 / poles)
    start = 0.75  # poles leave the canvas at this fraction of the height
    pole = cylinder(0.04, slant * (1 - start) + 0.16, segments=10)  # along the canvas, past the tip
    r0 = radius * (1 - start)
    for k in range(poles):
        angle = phase + 360 * k / poles
        x, y = r0 * math.cos(math.radians(angle)), r0 * math.sin(math.radians(angle))
        parts.append(Part("poles", pole, pole_color, "wood",
                          place(x=x, y=y, z=height * start, rz=angle, ry=-slope)))
    return parts
