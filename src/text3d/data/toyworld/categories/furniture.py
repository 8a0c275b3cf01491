"""Furniture: chair, table, stool, bed, sofa, bookshelf, lamp."""

from __future__ import annotations

from text3d.data.toyworld.declaration import CategoryInfo, category
from text3d.data.toyworld.shapes import Box, Lathe, Part, Torus, cylinder, place
from text3d.data.toyworld.style import Style


def _four_legs(s: Style, half_x: float, half_y: float, height: float, thick: float, color: str,
               material: str, round_legs: bool) -> list[Part]:
    legs = []
    for x in (-half_x, half_x):
        for y in (-half_y, half_y):
            shape = cylinder(thick / 2, height, segments=12) if round_legs else Box(thick, thick, height)
            z = 0.0 if round_legs else height / 2
            legs.append(Part("legs", shape, color, material, place(x=x, y=y, z=z)))
    return legs


@category(CategoryInfo("chair", "furniture", "chair", synonyms=("dining chair", "kitchen chair"),
    paraphrases=("armchair", "side chair"), test_paraphrases=("rocker", "highchair", "lounger"),
    parts=("seat", "back", "legs", "arms"), shapes=("tall", "wide"), size_m=0.9,
    materials=("wood", "plastic", "metal"), counts=(("legs", 4),)))
def chair(s: Style) -> list[Part]:
    width = 0.5 * s.stretch("wide", 1.25)
    depth = 0.5
    seat_h = 0.45
    back_h = 0.5 * s.stretch("tall", 1.4)
    thick = 0.06
    leg_color = s.main if s.chance(0.5) else s.other_color(s.main, neutral=True)
    parts = _four_legs(s, width / 2 - thick, depth / 2 - thick, seat_h - thick, 0.06, leg_color, s.material,
                       round_legs=s.chance(0.4))
    parts.append(Part("seat", Box(width, depth, thick), s.main, s.material, place(z=seat_h - thick / 2)))
    if s.chance(0.35):
        slats = s.integer(3, 4)
        s.facts["slats"] = slats
        for k in range(slats):
            x = -width / 2 + thick / 2 + k * (width - thick) / (slats - 1)
            parts.append(Part("back", Box(0.06, thick, back_h), s.main, s.material,
                              place(x=x, y=-depth / 2 + thick / 2, z=seat_h + back_h / 2)))
        parts.append(Part("back", Box(width, thick, 0.08), s.main, s.material,
                          place(y=-depth / 2 + thick / 2, z=seat_h + back_h - 0.04)))
    else:
        parts.append(Part("back", Box(width, thick, back_h), s.main, s.material,
                          place(y=-depth / 2 + thick / 2, z=seat_h + back_h / 2)))
    if s.chance(0.3):
        s.facts["armrests"] = True
        for x in (-width / 2 + 0.03, width / 2 - 0.03):
            parts.append(Part("arms", Box(0.06, depth, 0.05), s.accent, s.material, place(x=x, z=seat_h + 0.2)))
            parts.append(Part("arms", Box(0.05, 0.05, 0.2), s.accent, s.material,
                              place(x=x, y=depth / 2 - 0.05, z=seat_h + 0.1)))
    return parts


@category(CategoryInfo("table", "furniture", "table", synonyms=("dining table", "desk"),
    paraphrases=("worktable", "countertop"), test_paraphrases=("sideboard", "trestle", "bureau"),
    parts=("top", "legs"), shapes=("tall", "wide", "short"), size_m=0.75,
    materials=("wood", "metal", "stone", "plastic")))
def table(s: Style) -> list[Part]:
    width = 1.0 * s.stretch("wide", 1.3)
    depth = 0.6
    height = 0.55 * s.stretch("tall", 1.35) * s.stretch("short", 0.7)
    top_t = 0.07
    leg_color = s.main if s.chance(0.6) else s.other_color(s.main, neutral=True)
    round_top = s.chance(0.3)
    if round_top:
        parts = [Part("top", cylinder(0.5, top_t, segments=32), s.main, s.material, place(z=height - top_t))]
        s.facts["round"] = True
    else:
        parts = [Part("top", Box(width, depth, top_t), s.main, s.material, place(z=height - top_t / 2))]
    if s.chance(0.25):
        s.facts["pedestal"] = True
        parts.append(Part("legs", cylinder(0.06, height - top_t, segments=16), leg_color, s.material))
        parts.append(Part("legs", cylinder(0.22, 0.05, segments=24), leg_color, s.material))
    else:
        hx, hy = (0.3, 0.3) if round_top else (width / 2 - 0.07, depth / 2 - 0.07)
        parts += _four_legs(s, hx, hy, height - top_t, 0.07, leg_color, s.material, round_legs=s.chance(0.5))
    return parts


@category(CategoryInfo("stool", "furniture", "stool", synonyms=("bar stool", "footstool"),
    paraphrases=("tabouret", "perch seat"), test_paraphrases=("ottoman", "pouf", "tuffet"), parts=("seat", "legs"),
    shapes=("tall", "short"), size_m=0.6, materials=("wood", "metal", "plastic")))
def stool(s: Style) -> list[Part]:
    height = 0.6 * s.stretch("tall", 1.4) * s.stretch("short", 0.65)
    radius = 0.22
    legs = s.integer(3, 4)
    s.facts["legs"] = legs
    leg_color = s.main if s.chance(0.5) else s.other_color(s.main, neutral=True)
    parts = [Part("seat", cylinder(radius, 0.07, segments=28), s.main, s.material, place(z=height - 0.07))]
    for k in range(legs):
        angle = 360.0 * k / legs + 45.0
        parts.append(Part("legs", cylinder(0.03, height - 0.06, radius_top=0.03, segments=10), leg_color, s.material,
                          place(rz=angle) @ place(x=radius * 0.7)))
    if s.chance(0.5):
        s.facts["footrest"] = True
        parts.append(Part("legs", Torus(radius * 0.7, 0.022, 24, 8), leg_color, s.material, place(z=height * 0.35)))
    return parts


@category(CategoryInfo("bed", "furniture", "bed", synonyms=("single bed", "cot"),
    paraphrases=("bunk", "four-poster"), test_paraphrases=("daybed", "berth", "bedstead"),
    parts=("frame", "mattress", "headboard", "pillow", "blanket"), shapes=("wide", "narrow"), size_m=0.9,
    materials=("wood", "metal"), main_part="blanket"))
def bed(s: Style) -> list[Part]:
    length, width = 1.0, 0.6 * s.stretch("wide", 1.4) * s.stretch("narrow", 0.8)
    frame_color = s.other_color(s.main, neutral=True) if s.chance(0.6) else s.accent
    blanket_color = s.main
    parts = [
        Part("frame", Box(length, width, 0.12), frame_color, s.material, place(z=0.14)),
        Part("mattress", Box(length * 0.96, width * 0.94, 0.1), "white", "fabric", place(z=0.25)),
        Part("blanket", Box(length * 0.62, width * 0.98, 0.06), blanket_color, "fabric",
             place(x=length * 0.17, z=0.3)),
        Part("headboard", Box(0.06, width, 0.45), s.main, s.material, place(x=-length / 2 + 0.03, z=0.3)),
        Part("pillow", Box(0.16, width * 0.6, 0.07), "white" if s.chance(0.6) else s.accent, "fabric",
             place(x=-length / 2 + 0.16, z=0.33)),
    ]
    parts += [Part("frame", Box(0.06, 0.06, 0.1), frame_color, s.material, place(x=x, y=y, z=0.05))
              for x in (-length / 2 + 0.04, length / 2 - 0.04) for y in (-width / 2 + 0.04, width / 2 - 0.04)]
    if s.chance(0.4):
        s.facts["footboard"] = True
        parts.append(Part("frame", Box(0.06, width, 0.25), frame_color, s.material, place(x=length / 2 - 0.03, z=0.22)))
    return parts


@category(CategoryInfo("sofa", "furniture", "sofa", synonyms=("couch", "settee"), paraphrases=("loveseat", "divan"),
    test_paraphrases=("davenport", "chaise", "canape"), parts=("seat", "back", "arms", "cushions", "legs"),
    shapes=("wide",), size_m=0.9, materials=("fabric",), counts=(("arms", 2),)))
def sofa(s: Style) -> list[Part]:
    width = 1.0 * s.stretch("wide", 1.3)
    depth = 0.45
    seats = s.integer(2, 3)
    s.facts["cushions"] = seats
    parts = [
        Part("seat", Box(width, depth, 0.18), s.main, "fabric", place(z=0.14)),
        Part("back", Box(width, 0.12, 0.42), s.main, "fabric", place(y=-depth / 2 + 0.06, z=0.36)),
    ]
    for x in (-width / 2 - 0.05, width / 2 + 0.05):
        parts.append(Part("arms", Box(0.1, depth, 0.34), s.main, "fabric", place(x=x, z=0.22)))
    cushion_color = s.main if s.chance(0.5) else s.accent
    cw = width / seats
    for k in range(seats):
        parts.append(Part("cushions", Box(cw - 0.03, depth - 0.14, 0.08), cushion_color, "fabric",
                          place(x=-width / 2 + cw * (k + 0.5), y=0.05, z=0.27)))
    parts += [Part("legs", cylinder(0.03, 0.06, segments=10), "brown", "wood", place(x=x, y=y))
              for x in (-width / 2, width / 2) for y in (-depth / 2 + 0.05, depth / 2 - 0.05)]
    return parts


@category(CategoryInfo("bookshelf", "furniture", "bookshelf", synonyms=("bookcase", "shelf"),
    paraphrases=("shelving unit", "book rack"), test_paraphrases=("etagere", "whatnot", "cabinet"),
    parts=("frame", "shelves", "books"), shapes=("tall", "wide"), size_m=1.8,
    materials=("wood", "metal", "plastic")))
def bookshelf(s: Style) -> list[Part]:
    width = 0.7 * s.stretch("wide", 1.4)
    height = 1.0 * s.stretch("tall", 1.3)
    depth, t = 0.3, 0.05
    shelves = s.integer(3, 5)
    s.facts["shelves"] = shelves
    parts = [Part("frame", Box(t, depth, height), s.main, s.material, place(x=x, z=height / 2))
             for x in (-width / 2 + t / 2, width / 2 - t / 2)]
    parts.append(Part("frame", Box(width, t, height), s.main, s.material, place(y=-depth / 2 + t / 2, z=height / 2)))
    gap = (height - t) / shelves
    for k in range(shelves + 1):
        parts.append(Part("shelves", Box(width, depth, t), s.main, s.material, place(z=t / 2 + k * gap)))
    for k in range(shelves):
        x = -width / 2 + t + 0.01
        while x < width / 2 - t - 0.06:
            w = s.uniform(0.04, 0.07)
            h = s.uniform(0.55, 0.85) * (gap - t)
            parts.append(Part("books", Box(w, depth * 0.75, h), s.other_color(s.main), "fabric",
                              place(x=x + w / 2, y=0.01, z=t + k * gap + h / 2)))
            x += w + 0.005
            if s.chance(0.15):
                x += 0.08
    return parts


@category(CategoryInfo("lamp", "furniture", "lamp", synonyms=("table lamp", "desk lamp"),
    paraphrases=("lantern light", "floor light"), test_paraphrases=("sconce", "luminaire", "lampstand"),
    parts=("base", "stem", "shade"), shapes=("tall", "short"), size_m=0.5,
    materials=("metal", "ceramic", "plastic", "wood"), main_part="shade"))
def lamp(s: Style) -> list[Part]:
    stem_h = 0.55 * s.stretch("tall", 1.5) * s.stretch("short", 0.65)
    shade_color = s.main
    base_color = s.main if s.chance(0.5) else s.other_color(s.main, neutral=True)
    parts = [
        Part("base", cylinder(0.2, 0.06, radius_top=0.17, segments=28), base_color, s.material),
        Part("stem", cylinder(0.035, stem_h, segments=12), s.other_color(s.main, neutral=True), "metal",
             place(z=0.06)),
        Part("shade", Lathe([(0.28, 0.0), (0.15, 0.3)], 28), shade_color, "fabric", place(z=stem_h - 0.05)),
    ]
    if s.chance(0.35):
        s.facts["finial"] = True
        parts.append(Part("stem", cylinder(0.03, 0.06, segments=10), s.accent, "metal", place(z=stem_h + 0.25)))
    return parts
