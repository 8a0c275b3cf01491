"""Vehicles: sailboat, car, truck, airplane, helicopter, bicycle, rocket, train."""

from __future__ import annotations

import math

from text3d.data.toyworld.declaration import CategoryInfo, category
from text3d.data.toyworld.shapes import Box, Extrusion, Lathe, Part, Torus, cylinder, ellipsoid, place
from text3d.data.toyworld.style import Style


def _wheels(s: Style, xs: list[float], half_track: float, radius: float, width: float, color: str) -> list[Part]:
    parts = []
    for x in xs:
        for y in (-half_track, half_track):
            parts.append(Part("wheels", cylinder(radius, width), color, "rubber",
                              place(x=x, y=y - width / 2 if y > 0 else y + width / 2, z=radius,
                                    rx=90 if y > 0 else -90)))
    return parts


@category(CategoryInfo("sailboat", "vehicles", "sailboat", synonyms=("sailing boat", "boat"),
    paraphrases=("yacht", "sloop"), test_paraphrases=("ketch", "yawl", "trimaran"),
    parts=("hull", "mast", "sail", "flag"), shapes=("tall", "wide"), size_m=6.0, materials=("wood", "plastic")))
def sailboat(s: Style) -> list[Part]:
    length = 1.0 * s.stretch("wide", 1.2)
    width, depth = 0.34, 0.22
    outline = [(-length / 2, -width / 2), (length * 0.22, -width / 2), (length / 2, 0.0),
               (length * 0.22, width / 2), (-length / 2, width / 2)]
    mast_h = 0.95 * s.stretch("tall", 1.35)
    mast_x = -0.05
    sail_color = "white" if s.chance(0.6) else s.main
    parts = [
        Part("hull", Extrusion(outline, depth), s.main, s.material, place(z=depth / 2)),
        Part("mast", cylinder(0.05, mast_h), s.other_color(s.main, neutral=True), s.choice(("wood", "metal")),
             place(x=mast_x, z=depth)),
        Part("sail", Extrusion([(0.0, 0.0), (0.42 * length, 0.0), (0.0, 0.82 * mast_h)], 0.08), sail_color, "fabric",
             place(x=mast_x + 0.05, z=depth + 0.1, rx=90)),
    ]
    if s.chance(0.4):
        s.facts["jib"] = True
        parts.append(Part("sail", Extrusion([(0.0, 0.0), (0.0, 0.7 * mast_h), (-0.3 * length, 0.0)], 0.08),
                          sail_color, "fabric", place(x=mast_x - 0.05, z=depth + 0.12, rx=90)))
    if s.chance(0.4):
        s.facts["flag"] = True
        parts.append(Part("flag", Box(0.16, 0.06, 0.1), s.accent, "fabric",
                          place(x=mast_x + 0.08, z=depth + mast_h - 0.05)))
    return parts


@category(CategoryInfo("car", "vehicles", "car", synonyms=("automobile", "toy car"), paraphrases=("sedan", "coupe"),
    test_paraphrases=("jalopy", "minivan", "runabout"),
    parts=("body", "cabin", "wheels", "lights", "windows", "spoiler"), shapes=("wide", "short"), size_m=1.5,
    materials=("metal", "plastic"), counts=(("wheels", 4),)))
def car(s: Style) -> list[Part]:
    length, width = 1.0, 0.46 * s.stretch("wide", 1.2)
    body_h = 0.24 * s.stretch("short", 0.8)
    r = 0.12
    body_z = r * 0.9
    cabin_color = s.main if s.chance(0.6) else s.accent
    parts = [
        Part("body", Box(length, width, body_h), s.main, s.material, place(z=body_z + body_h / 2)),
        Part("cabin", Extrusion([(-0.28, 0.0), (0.22, 0.0), (0.1, 0.2), (-0.2, 0.2)], width * 0.86), cabin_color,
             s.material, place(x=-0.05, z=body_z + body_h, rx=90)),
        Part("windows", Extrusion([(-0.25, 0.02), (0.19, 0.02), (0.08, 0.17), (-0.18, 0.17)], width * 0.9),
             "black", "glass", place(x=-0.05, z=body_z + body_h, rx=90)),
    ]
    parts += _wheels(s, [-0.3, 0.3], width / 2 + 0.01, r, 0.08, "black")
    parts += [Part("lights", Box(0.03, 0.07, 0.05), "yellow", "glass",
                   place(x=length / 2, y=y, z=body_z + body_h * 0.6))
              for y in (-width / 3, width / 3)]
    if s.chance(0.35):
        s.facts["spoiler"] = True
        parts.append(Part("spoiler", Box(0.08, width, 0.03), s.accent, "plastic",
                          place(x=-length / 2 + 0.05, z=body_z + body_h + 0.08)))
        parts += [Part("spoiler", Box(0.03, 0.03, 0.08), s.accent, "plastic",
                       place(x=-length / 2 + 0.05, y=y, z=body_z + body_h + 0.04)) for y in (-width / 3, width / 3)]
    return parts


@category(CategoryInfo("truck", "vehicles", "truck", synonyms=("lorry", "toy truck"),
    paraphrases=("pickup", "hauler"), test_paraphrases=("tipper", "semitrailer", "eighteen-wheeler"),
    parts=("cab", "cargo box", "wheels", "chassis", "windows"), shapes=("tall", "wide"), size_m=3.0,
    materials=("metal", "plastic"), counts=(("wheels", 6),)))
def truck(s: Style) -> list[Part]:
    width = 0.42 * s.stretch("wide", 1.2)
    box_h = 0.42 * s.stretch("tall", 1.3)
    r = 0.11
    chassis_z = r * 1.1
    cargo_color = s.main if s.chance(0.5) else s.other_color(s.main, neutral=True)
    parts = [
        Part("chassis", Box(1.0, width * 0.9, 0.06), "gray", "metal", place(z=chassis_z)),
        Part("cab", Box(0.28, width, 0.34), s.main, s.material, place(x=0.34, z=chassis_z + 0.2)),
        Part("windows", Box(0.02, width * 0.85, 0.12), "black", "glass", place(x=0.485, z=chassis_z + 0.26)),
        Part("cargo box", Box(0.62, width * 1.04, box_h), cargo_color, s.material,
             place(x=-0.17, z=chassis_z + 0.03 + box_h / 2)),
    ]
    parts += _wheels(s, [-0.32, -0.08, 0.34], width / 2 + 0.01, r, 0.08, "black")
    return parts


@category(CategoryInfo("airplane", "vehicles", "airplane", synonyms=("plane", "aeroplane"),
    paraphrases=("jet", "airliner"), test_paraphrases=("monoplane", "propliner", "turboprop"),
    parts=("fuselage", "wings", "tail", "engines"), shapes=("wide",), size_m=10.0, materials=("metal", "plastic"),
    counts=(("wings", 2), ("engines", 2))))
def airplane(s: Style) -> list[Part]:
    length = 1.0
    span = 1.0 * s.stretch("wide", 1.25)
    radius = 0.09
    fuselage = Lathe([(0.0, 0.0), (0.05, 0.03), (radius, 0.12), (radius, 0.75), (0.045, 0.95), (0.0, 1.0)], 20)
    wing_color = s.main if s.chance(0.6) else s.accent
    parts = [
        Part("fuselage", fuselage, s.main, s.material, place(x=-length / 2, z=0.12, ry=90)),
        Part("wings", Extrusion([(-0.22, -span / 2), (-0.1, -span / 2), (0.15, -0.06), (0.15, 0.06),
                                 (-0.1, span / 2), (-0.22, span / 2), (-0.12, 0.06), (-0.12, -0.06)], 0.065),
             wing_color, s.material, place(x=0.02, z=0.11)),
        Part("tail", Extrusion([(-0.06, -0.2), (0.04, -0.2), (0.04, 0.2), (-0.06, 0.2)], 0.06), wing_color,
             s.material, place(x=-0.4, z=0.14)),
        Part("tail", Extrusion([(0.0, 0.0), (0.14, 0.0), (0.02, 0.2), (-0.04, 0.2)], 0.06), s.accent,
             s.material, place(x=-0.48, z=0.15, rx=90)),
    ]
    if s.chance(0.7):
        s.facts["engines"] = 2
        parts += [Part("engines", cylinder(0.055, 0.18), "gray", "metal",
                       place(x=0.04, y=y, z=0.07, ry=90)) for y in (-span * 0.22, span * 0.22)]
    return parts


@category(CategoryInfo("helicopter", "vehicles", "helicopter", synonyms=("chopper",),
    paraphrases=("rotorcraft", "heli"), test_paraphrases=("copter", "gyrocopter", "autogyro"),
    parts=("cabin", "rotor", "tail boom", "skids", "windows", "tail"), size_m=4.0, materials=("metal", "plastic"),
    counts=(("skids", 2),)))
def helicopter(s: Style) -> list[Part]:
    parts = [
        Part("cabin", ellipsoid(0.3, 0.2, 0.2), s.main, s.material, place(x=0.1, z=0.3)),
        Part("windows", ellipsoid(0.16, 0.14, 0.12), "teal" if s.main != "teal" else "white", "glass",
             place(x=0.27, z=0.36)),
        Part("tail boom", cylinder(0.065, 0.55, radius_top=0.045), s.main, s.material, place(x=-0.15, z=0.32, ry=-90)),
        Part("tail", Box(0.12, 0.06, 0.2), s.accent, s.material, place(x=-0.68, z=0.38)),
        Part("rotor", cylinder(0.03, 0.08), "gray", "metal", place(x=0.1, z=0.48)),
        Part("rotor", Box(0.95, 0.11, 0.06), s.accent if s.chance(0.5) else "black", "metal",
             place(x=0.1, z=0.56, rz=20)),
    ]
    for y in (-0.16, 0.16):
        parts.append(Part("skids", cylinder(0.045, 0.6), "gray", "metal", place(x=-0.2, y=y, z=0.03, ry=90)))
        parts += [Part("skids", cylinder(0.04, 0.14), "gray", "metal", place(x=x, y=y, z=0.03)) for x in (-0.05, 0.25)]
    return parts


@category(CategoryInfo("bicycle", "vehicles", "bicycle", synonyms=("bike",), paraphrases=("cycle", "two-wheeler"),
    test_paraphrases=("penny-farthing", "fixie", "tourer"),
    parts=("frame", "wheels", "seat", "handlebar", "basket"), size_m=1.0, materials=("metal",),
    counts=(("wheels", 2),)))
def bicycle(s: Style) -> list[Part]:
    r = 0.26
    tube = 0.042
    wheel_color = "black"
    parts = [Part("wheels", Torus(r, 0.05, 32, 8), wheel_color, "rubber", place(x=x, z=r + 0.035, rx=90))
             for x in (-0.42, 0.42)]
    parts += [Part("wheels", cylinder(0.05, 0.05), "gray", "metal", place(x=x, y=-0.025, z=r + 0.035, rx=-90))
              for x in (-0.42, 0.42)]
    hub = r + 0.035
    frame = [((-0.42, hub), (-0.05, hub + 0.02)), ((-0.05, hub + 0.02), (0.32, hub + 0.3)),
             ((-0.05, hub + 0.02), (-0.12, hub + 0.32)), ((-0.12, hub + 0.32), (0.32, hub + 0.3)),
             ((-0.42, hub), (-0.12, hub + 0.32)), ((0.32, hub + 0.3), (0.42, hub))]
    for (x0, z0), (x1, z1) in frame:
        length = math.hypot(x1 - x0, z1 - z0)
        angle = math.degrees(math.atan2(x1 - x0, z1 - z0))
        parts.append(Part("frame", cylinder(tube, length), s.main, s.material, place(x=x0, z=z0, ry=angle)))
    parts += [
        Part("seat", Box(0.18, 0.1, 0.06), "black", "rubber", place(x=-0.13, z=hub + 0.36)),
        Part("handlebar", cylinder(0.035, 0.3), "gray", "metal", place(x=0.33, y=-0.15, z=hub + 0.36, rx=-90)),
        Part("handlebar", cylinder(0.035, 0.07), "gray", "metal", place(x=0.33, z=hub + 0.3)),
    ]
    if s.chance(0.4):
        s.facts["basket"] = True
        parts.append(Part("basket", Box(0.14, 0.2, 0.12), s.accent, "plastic", place(x=0.46, z=hub + 0.3)))
    return parts


@category(CategoryInfo("rocket", "vehicles", "rocket", synonyms=("spaceship", "toy rocket"),
    paraphrases=("spacecraft", "missile"), test_paraphrases=("starship", "launcher", "spaceplane"),
    parts=("body", "nose cone", "fins", "window"), shapes=("tall", "wide"), size_m=20.0,
    materials=("metal", "plastic")))
def rocket(s: Style) -> list[Part]:
    height = 1.0 * s.stretch("tall", 1.3)
    radius = 0.14 * s.stretch("wide", 1.3)
    body = Lathe([(radius * 0.8, 0.0), (radius, 0.1), (radius, height * 0.62)], 24)
    nose = Lathe([(radius, 0.0), (radius * 0.8, height * 0.12), (radius * 0.4, height * 0.22),
                  (0.0, height * 0.28)], 24)
    fin = Extrusion([(0.0, 0.0), (0.22, 0.0), (0.0, 0.32)], 0.045)
    parts = [Part("body", body, s.main, s.material), Part("nose cone", nose, s.accent, s.material,
                                                         place(z=height * 0.62))]
    fins = s.integer(3, 4)
    s.facts["fins"] = fins
    for k in range(fins):
        around = place(z=0.0, rz=360.0 * k / fins) @ place(x=radius * 0.85, rx=90)
        parts.append(Part("fins", fin, s.accent, s.material, around))
    parts.append(Part("window", cylinder(0.06, 0.03), "teal" if s.main != "teal" else "white", "glass",
                      place(y=radius - 0.005, z=height * 0.45, rx=-90)))
    return parts


@category(CategoryInfo("train", "vehicles", "train", synonyms=("locomotive", "steam engine"),
    paraphrases=("railway engine", "choo-choo"), test_paraphrases=("shunter", "railcar", "railbus"),
    parts=("boiler", "cab", "chimney", "wheels", "roof", "windows", "cowcatcher", "chassis"), shapes=("tall",),
    size_m=4.0, materials=("metal", "plastic", "wood"), counts=(("wheels", 6),)))
def train(s: Style) -> list[Part]:
    width = 0.36
    r = 0.1
    cab_h = 0.36 * s.stretch("tall", 1.25)
    parts = [
        Part("chassis", Box(0.95, width, 0.08), "black", "metal", place(z=r + 0.06)),
        Part("boiler", cylinder(0.15, 0.55), s.main, s.material, place(x=-0.12, z=r + 0.25, ry=90)),
        Part("cab", Box(0.3, width, cab_h), s.main if s.chance(0.5) else s.accent, s.material,
             place(x=-0.3, z=r + 0.1 + cab_h / 2)),
        Part("roof", Box(0.36, width * 1.15, 0.04), s.accent, s.material, place(x=-0.3, z=r + 0.12 + cab_h)),
        Part("chimney", cylinder(0.05, 0.16, radius_top=0.07), "black", "metal", place(x=0.3, z=r + 0.36)),
        Part("windows", Box(0.14, width * 1.02, 0.1), "black", "glass", place(x=-0.3, z=r + 0.1 + cab_h * 0.7)),
    ]
    parts += _wheels(s, [-0.32, -0.06, 0.2], width / 2 + 0.005, r, 0.05, s.accent if s.chance(0.5) else "black")
    if s.chance(0.5):
        s.facts["cowcatcher"] = True
        parts.append(Part("cowcatcher", Extrusion([(0.0, 0.0), (0.12, 0.0), (0.0, 0.14)], width * 0.9), "gray",
                          "metal", place(x=0.47, z=0.04, rx=90)))
    return parts

