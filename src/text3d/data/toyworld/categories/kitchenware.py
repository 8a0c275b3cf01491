"""Kitchenware: mug, teapot, bowl, bottle, wine glass, frying pan."""

from __future__ import annotations

from text3d.data.toyworld.declaration import CategoryInfo, category
from text3d.data.toyworld.shapes import Extrusion, Lathe, Part, Revolve, cylinder, place, shell_outline, sphere
from text3d.data.toyworld.style import Style


def _loop_handle(height: float, reach: float, thick: float) -> Extrusion:
    """A "C" handle in the x–z plane (open towards −x), extruded along y after rx=90."""
    h, r, t = height, reach, thick
    return Extrusion([(0.0, 0.0), (r, 0.0), (r, h), (0.0, h), (0.0, h - t), (r - t, h - t), (r - t, t), (0.0, t)],
                     thick)


@category(CategoryInfo("mug", "kitchenware", "mug", synonyms=("coffee mug", "cup"),
    paraphrases=("tankard", "beaker"), test_paraphrases=("demitasse", "tumbler", "cuppa"), parts=("body", "handle"),
    shapes=("tall", "wide"), size_m=0.1, materials=("ceramic", "plastic", "metal")))
def mug(s: Style) -> list[Part]:
    radius = 0.3 * s.stretch("wide", 1.25)
    height = 0.7 * s.stretch("tall", 1.3)
    parts = [Part("body", Revolve(shell_outline([(radius, 0.0), (radius, height)], 0.05, 0.08)), s.main, s.material)]
    handle_color = s.main if s.chance(0.6) else s.accent
    parts.append(Part("handle", _loop_handle(height * 0.6, 0.2, 0.07), handle_color, s.material,
                      place(x=radius - 0.03, z=height * 0.18, rx=90)))
    if s.chance(0.35):
        s.facts["stripe"] = True
        parts.append(Part("body", Revolve([(radius, 0.0), (radius + 0.012, 0.0), (radius + 0.012, 0.08),
                                           (radius, 0.08)]), s.accent, s.material, place(z=height * 0.45)))
    return parts


@category(CategoryInfo("teapot", "kitchenware", "teapot", synonyms=("tea pot", "kettle"),
    paraphrases=("tea kettle", "brewer"), test_paraphrases=("coffeepot", "cafetiere", "percolator"),
    parts=("body", "lid", "spout", "handle"), shapes=("tall", "wide"), size_m=0.2, materials=("ceramic", "metal")))
def teapot(s: Style) -> list[Part]:
    rx = 0.32 * s.stretch("wide", 1.2)
    rz = 0.24 * s.stretch("tall", 1.3)
    body = Lathe([(0.0, 0.0), (rx * 0.75, 0.0), (rx * 0.97, rz * 0.5), (rx, rz), (rx * 0.9, rz * 1.5),
                  (rx * 0.55, rz * 1.9), (rx * 0.45, rz * 1.95)], 28)
    lid_color = s.main if s.chance(0.5) else s.accent
    parts = [
        Part("body", body, s.main, s.material),
        Part("lid", Lathe([(rx * 0.47, 0.0), (rx * 0.35, 0.05), (0.05, 0.08), (0.0, 0.08)], 24), lid_color,
             s.material, place(z=rz * 1.95)),
        Part("lid", sphere(0.05, 6, 12), lid_color, s.material, place(z=rz * 1.95 + 0.1)),
        Part("spout", cylinder(0.06, 0.36, radius_top=0.035, segments=14), s.main, s.material,
             place(x=rx * 0.75, z=rz * 0.7, ry=55)),
        Part("handle", _loop_handle(rz * 1.1, 0.22, 0.07), s.main if s.chance(0.6) else s.accent, s.material,
             place(x=-rx + 0.04, z=rz * 0.5, rx=90, rz=180)),
    ]
    return parts


@category(CategoryInfo("bowl", "kitchenware", "bowl", synonyms=("salad bowl", "dish"),
    paraphrases=("basin", "soup dish"), test_paraphrases=("ramekin", "terrine", "punchbowl"), parts=("body",),
    shapes=("wide", "tall"), size_m=0.1, materials=("ceramic", "wood", "plastic", "glass")))
def bowl(s: Style) -> list[Part]:
    radius = 0.5 * s.stretch("wide", 1.2)
    height = 0.32 * s.stretch("tall", 1.4)
    outer = [(radius * 0.45, 0.0), (radius * 0.5, 0.03), (radius * 0.78, height * 0.35), (radius * 0.95, height * 0.75),
             (radius, height)]
    parts = [Part("body", Revolve(shell_outline(outer, 0.05, 0.05), 32), s.main, s.material)]
    if s.chance(0.4):
        s.facts["rim"] = True
        parts.append(Part("body", Revolve([(radius - 0.05, 0.0), (radius + 0.01, 0.0), (radius + 0.01, 0.04),
                                           (radius - 0.05, 0.04)], 32), s.accent, s.material,
                          place(z=height - 0.035)))
    if s.chance(0.3):
        s.facts["fruit"] = True
        parts.append(Part("body", sphere(0.12, 8, 14), s.choice(("red", "orange", "yellow", "green")), "plastic",
                          place(z=0.15)))
    return parts


@category(CategoryInfo("bottle", "kitchenware", "bottle", synonyms=("water bottle", "flask"),
    paraphrases=("carafe", "decanter"), test_paraphrases=("ampoule", "demijohn", "phial"),
    parts=("body", "neck", "cap", "label"), shapes=("tall", "wide"), size_m=0.3, materials=("glass", "plastic")))
def bottle(s: Style) -> list[Part]:
    radius = 0.16 * s.stretch("wide", 1.3)
    height = 0.62 * s.stretch("tall", 1.25)
    body = Lathe([(radius * 0.9, 0.0), (radius, 0.03), (radius, height), (radius * 0.75, height + 0.08),
                  (0.07, height + 0.16)], 24)
    parts = [
        Part("body", body, s.main, s.material),
        Part("neck", cylinder(0.07, 0.16, segments=18), s.main, s.material, place(z=height + 0.15)),
        Part("cap", cylinder(0.085, 0.08, segments=18), s.accent, "plastic", place(z=height + 0.29)),
    ]
    if s.chance(0.6):
        s.facts["label"] = True
        label_color = "white" if s.chance(0.5) else s.other_color(s.main, s.accent)
        parts.append(Part("label", cylinder(radius + 0.012, height * 0.4, segments=24), label_color, "fabric",
                          place(z=height * 0.25)))
    return parts


@category(CategoryInfo("wine_glass", "kitchenware", "wine glass", synonyms=("goblet", "wineglass"),
    paraphrases=("chalice", "stemware"), test_paraphrases=("snifter", "rummer", "copita"),
    parts=("bowl", "stem", "foot"), shapes=("tall",), size_m=0.2, materials=("glass",)))
def wine_glass(s: Style) -> list[Part]:
    stem_h = 0.4 * s.stretch("tall", 1.35)
    bowl_outer = [(0.05, 0.0), (0.16, 0.05), (0.24, 0.17), (0.25, 0.3), (0.22, 0.42)]
    parts = [
        Part("foot", cylinder(0.2, 0.04, radius_top=0.17, segments=28), s.main, "glass"),
        Part("stem", cylinder(0.04, stem_h, segments=12), s.main, "glass", place(z=0.03)),
        Part("bowl", Revolve(shell_outline(bowl_outer, 0.035, 0.05), 28), s.main, "glass", place(z=stem_h)),
    ]
    if s.chance(0.4):
        s.facts["wine"] = True
        parts.append(Part("bowl", Lathe([(0.1, 0.0), (0.19, 0.1), (0.2, 0.16)], 24),
                          s.choice(("red", "purple", "yellow")), "glass", place(z=stem_h + 0.06)))
    return parts


@category(CategoryInfo("frying_pan", "kitchenware", "frying pan", synonyms=("pan", "skillet"),
    paraphrases=("wok", "griddle"), test_paraphrases=("sauteuse", "stewpan", "frypan"), parts=("pan", "handle"),
    shapes=("wide",), size_m=0.1, materials=("metal",)))
def frying_pan(s: Style) -> list[Part]:
    radius = 0.32 * s.stretch("wide", 1.2)
    outer = [(radius * 0.8, 0.0), (radius, 0.14)]
    handle_color = s.choice(("black", "brown", s.accent))
    parts = [
        Part("pan", Revolve(shell_outline(outer, 0.065, 0.06), 32), s.main, s.material),
        Part("handle", cylinder(0.05, 0.45, segments=12), handle_color,
             "wood" if handle_color == "brown" else "plastic",
             place(x=radius - 0.02, z=0.09, ry=80)),
    ]
    if s.chance(0.3):
        s.facts["egg"] = True
        parts.append(Part("pan", cylinder(0.11, 0.02, segments=20), "white", "ceramic", place(x=-0.05, z=0.04)))
        parts.append(Part("pan", sphere(0.045, 6, 10), "yellow", "ceramic", place(x=-0.05, z=0.07)))
    return parts
