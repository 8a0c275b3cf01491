"""Toys: ball, spinning top, block tower, drum, rubber duck.

This module also holds the small geometry helpers that ``characters`` and ``tools`` use
(aiming a z-axis primitive, capsules, lathes cut into painted bands, counter-clockwise polygons).
Animals with a heading (the duck, the fish) point along +X like the vehicles, so the
3/4 camera sees their profile; upright figures face +Y.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from text3d.data.toyworld.declaration import CategoryInfo, category
from text3d.data.toyworld.shapes import (
    Box,
    Lathe,
    Part,
    Torus,
    cylinder,
    ellipsoid,
    ellipsoid_profile,
    place,
    sphere,
)
from text3d.data.toyworld.style import Style

Point = tuple[float, float, float]


# --------------------------------------------------------------------------- shared helpers
def aim(start: Point, end: Point) -> tuple[np.ndarray, float]:
    """Transform putting a z-axis primitive's base at ``start``, pointing at ``end``; and the distance."""
    delta = np.subtract(end, start, dtype=np.float64)
    length = float(np.linalg.norm(delta))
    tilt = math.degrees(math.acos(float(np.clip(delta[2] / length, -1.0, 1.0))))
    heading = math.degrees(math.atan2(delta[1], delta[0]))
    return place(x=start[0], y=start[1], z=start[2], ry=tilt, rz=heading), length


def capsule(radius: float, length: float, rings: int = 4, segments: int = 16) -> Lathe:
    """Rod with hemispherical ends along z, from z = 0 to z = ``length`` (≥ 2·radius)."""
    quarter = np.linspace(0.0, math.pi / 2, rings + 1)
    bottom = [(radius * math.sin(a), radius - radius * math.cos(a)) for a in quarter]
    top = [(radius * math.cos(a), length - radius + radius * math.sin(a)) for a in quarter]
    profile = [(0.0, 0.0)] + bottom[1:] + top[:-1] + [(0.0, length)]
    return Lathe(profile, segments)


def lathe_pieces(profile: Sequence[tuple[float, float]], cuts: Sequence[float], segments: int = 24,
                 squash: float = 1.0) -> list[Lathe]:
    """Cut a lathe profile at the ascending heights ``cuts`` into stacked pieces (bands to paint)."""
    zs, rs = [z for _, z in profile], [r for r, _ in profile]
    ends = [zs[0], *cuts, zs[-1]]
    pieces = []
    for low, high in pairwise(ends):
        inside = [(r, z) for r, z in profile if low < z < high]
        points = [(float(np.interp(low, zs, rs)), low), *inside, (float(np.interp(high, zs, rs)), high)]
        pieces.append(Lathe(points, segments, squash))
    return pieces


def on_sphere(center: Point, radius: float, azimuth: float, elevation: float) -> Point:
    """Point on a sphere, azimuth measured from +Y toward +X (degrees), elevation above the equator."""
    a, e = math.radians(azimuth), math.radians(elevation)
    return (center[0] + radius * math.cos(e) * math.sin(a), center[1] + radius * math.cos(e) * math.cos(a),
            center[2] + radius * math.sin(e))


def ccw(polygon: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The polygon in counter-clockwise order (as :class:`Extrusion` needs)."""
    pts = list(polygon)
    signed = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]))
    return pts if signed > 0 else pts[::-1]


def contrast(s: Style, preferred: str, fallback: str) -> str:
    """``preferred`` unless it is the main color (then ``fallback``), so details stay visible."""
    return fallback if preferred == s.main else preferred


# --------------------------------------------------------------------------- toys
@category(CategoryInfo("ball", "toys", "ball", synonyms=("beach ball", "toy ball"),
    paraphrases=("sphere toy", "playball"), test_paraphrases=("dodgeball", "kickball", "handball"),
    parts=("body", "stripe"), size_m=0.3, materials=("rubber", "plastic")))
def ball(s: Style) -> list[Part]:
    """A ball with up to three painted stripes around a tilted axis."""
    radius = 0.5
    stripes = s.count("stripe", 0, 3)
    half = s.uniform(0.05, 0.08)
    if stripes == 1:
        zones = [(-half * 1.3, half * 1.3)]
    elif stripes == 2:
        gap = s.uniform(0.13, 0.2)
        zones = [(-gap - half, -gap + half), (gap - half, gap + half)]
    elif stripes == 3:
        gap = s.uniform(0.22, 0.28)
        zones = [(-gap - half, -gap + half), (-half, half), (gap - half, gap + half)]
    else:
        zones = []
    stripe_color = s.accent if s.chance(0.7) else contrast(s, "white", s.accent)
    frame = place(z=radius, rz=s.uniform(0.0, 180.0), rx=s.uniform(-20.0, 20.0))
    pieces = lathe_pieces(ellipsoid_profile(radius, radius, 18), [z for zone in zones for z in zone])
    body = [Part("body", piece, s.main, s.material, frame) for piece in pieces[::2]]
    bands = [Part("stripe", piece, stripe_color, s.material, frame) for piece in pieces[1::2]]
    return body + bands


@category(CategoryInfo("spinning_top", "toys", "spinning top", synonyms=("toy top", "spin top"),
    paraphrases=("whirligig", "spinner"), test_paraphrases=("trompo", "dradel", "twirler"),
    parts=("body", "tip", "handle"), shapes=("tall", "wide"), size_m=0.1, materials=("wood", "plastic", "metal")))
def spinning_top(s: Style) -> list[Part]:
    """A top on its point: a flared body, a metal tip and a stem handle, slightly tilted."""
    radius = s.uniform(0.4, 0.46) * s.stretch("wide", 1.3)
    height = s.uniform(0.5, 0.6) * s.stretch("tall", 1.35)
    tip_height = 0.12
    waist = s.uniform(0.58, 0.7)  # where the body is widest, as a fraction of its height
    profile = [(0.05, 0.0), (radius * 0.5, height * waist * 0.55), (radius, height * waist),
               (radius * 0.96, height * (waist + 0.1)), (radius * 0.62, height * 0.9), (0.09, height)]
    lean = place(ry=s.uniform(0.0, 10.0), rz=s.uniform(0.0, 360.0))
    handle_color = s.main if s.chance(0.5) else s.accent
    handle_length = s.uniform(0.2, 0.3)
    stripe = s.chance(0.6)
    cuts = [height * (waist - 0.12), height * (waist + 0.06)] if stripe else []
    pieces = lathe_pieces(profile, cuts, 28)
    parts = [
        Part("body", pieces[0], s.main, s.material, lean @ place(z=tip_height)),
        Part("tip", Lathe([(0.0, 0.0), (0.06, tip_height + 0.02)], 16), s.choice(("gray", "black")), "metal",
             lean),
        Part("handle", cylinder(0.055, handle_length + 0.02, segments=16), handle_color, s.material,
             lean @ place(z=tip_height + height - 0.02)),
        Part("handle", sphere(0.075, rings=8, segments=16), handle_color, s.material,
             lean @ place(z=tip_height + height + handle_length)),
    ]
    if stripe:
        s.facts["stripe"] = True
        stripe_color = contrast(s, s.accent, "white")
        parts += [Part("body", pieces[2], s.main, s.material, lean @ place(z=tip_height)),
                  Part("body", pieces[1], stripe_color, s.material, lean @ place(z=tip_height))]
    return parts


@category(CategoryInfo("block_tower", "toys", "block tower", synonyms=("stack of blocks", "toy blocks"),
    paraphrases=("tower of cubes", "building bricks"), test_paraphrases=("stacker", "ziggurat", "cairn"),
    parts=("block",), shapes=("tall", "short"), size_m=0.3, materials=("wood", "plastic")))
def block_tower(s: Style) -> list[Part]:
    """Toy blocks stacked a little crooked, big to small, maybe crowned by a round block or a ball."""
    low, high = {"tall": (4, 6), "short": (3, 4)}.get(s.shape or "", (3, 5))
    if "block" in s.requested:
        low, high = 2, 8  # a prompt's number wins over the proportion word
    total = s.count("block", low, high)
    top = s.choice(("none", "none", "round", "ball"))
    count = total if top == "none" else total - 1  # cubes below the crowning piece
    width = s.uniform(0.34, 0.4) * s.stretch("short", 1.25)
    alternate = s.chance(0.6)
    taper = s.uniform(0.0, 0.035)
    parts, z = [], 0.0
    for level in range(count):
        side = width - taper * level
        tall = side * s.uniform(0.8, 1.0) * (0.85 if s.shape == "short" else 1.0)
        color = s.accent if alternate and level % 2 == 1 else s.main
        jitter = place(x=s.uniform(-0.03, 0.03), y=s.uniform(-0.03, 0.03), z=z + tall / 2,
                       rz=s.uniform(-20.0, 20.0))
        parts.append(Part("block", Box(side, side, tall), color, s.material, jitter))
        z += tall
    side = width - taper * count
    color = s.accent if alternate and count % 2 == 1 else s.main
    if top == "ball":
        parts.append(Part("block", sphere(side * 0.48, rings=10, segments=18), color, s.material,
                          place(z=z + side * 0.46)))
    elif top == "round":
        parts.append(Part("block", cylinder(side / 2, side * 0.8), color, s.material, place(z=z)))
    if top != "none":
        s.facts["top"] = top
    return parts


@category(CategoryInfo("drum", "toys", "drum", synonyms=("toy drum", "snare drum"),
    paraphrases=("tom-tom", "tambour"), test_paraphrases=("conga", "tabla", "djembe"),
    parts=("shell", "drumhead", "rim"), shapes=("tall", "wide"), size_m=0.4, materials=("wood", "metal", "plastic")))
def drum(s: Style) -> list[Part]:
    """A drum: colored shell, light drumhead, two rims, and zigzag cords or lugs on the side."""
    radius = s.uniform(0.42, 0.48) * s.stretch("wide", 1.3)
    height = s.uniform(0.4, 0.5) * s.stretch("tall", 1.4)
    rim_tube = 0.04
    head_color = contrast(s, "white", "gray")
    rim_options = ((s.accent, "plastic"), ("gray", "metal"), ("yellow", "metal"))
    rims = [(color, material) for color, material in rim_options if color not in (s.main, head_color)]
    rim_color, rim_material = s.choice(rims)
    parts = [
        Part("shell", cylinder(radius, height, segments=32), s.main, s.material),
        Part("drumhead", cylinder(radius - 0.01, 0.05, segments=32), head_color, "fabric",
             place(z=height - 0.035)),
        Part("rim", Torus(radius + 0.005, rim_tube, 32, 8), rim_color, rim_material, place(z=height)),
        Part("rim", Torus(radius + 0.005, rim_tube, 32, 8), rim_color, rim_material, place(z=rim_tube)),
    ]
    trim = s.choice(("cords", "lugs", "none"))
    around = s.integer(5, 7) if trim == "lugs" else 5
    for k in range(around):
        angle = 2 * math.pi * k / around
        if trim == "cords":
            half_step = math.pi / around
            for start, end in ((angle - half_step, angle), (angle + half_step, angle)):
                out = radius + 0.01
                low = (out * math.cos(start), out * math.sin(start), rim_tube * 1.5)
                high = (out * math.cos(end), out * math.sin(end), height - rim_tube * 0.5)
                transform, length = aim(low, high)
                parts.append(Part("rim", cylinder(0.026, length, segments=8), rim_color, rim_material,
                                  transform))
        elif trim == "lugs":
            parts.append(Part("rim", Box(0.06, 0.07, height * 0.4), rim_color, rim_material,
                              place(z=height / 2, rz=math.degrees(angle)) @ place(x=radius)))
    if trim != "none":
        s.facts["trim"] = trim
    return parts


@category(CategoryInfo("rubber_duck", "toys", "rubber duck", synonyms=("duck", "toy duck"),
    paraphrases=("duckling", "bath duckie"), test_paraphrases=("drake", "quacker", "squeaker"),
    parts=("body", "head", "beak"), size_m=0.1, materials=("rubber", "plastic"), main_part="body",
    shared_parts=("head",), typical_colors=("yellow",), one_material=True))
def rubber_duck(s: Style) -> list[Part]:
    """A bath duck heading +X: round body with raised tail and wings, a big head, an orange beak."""
    length, width, depth = s.uniform(0.46, 0.52), s.uniform(0.32, 0.38), s.uniform(0.24, 0.29)
    head_r = s.uniform(0.19, 0.23)
    head = (length * 0.45, 0.0, depth * 2 + head_r * 0.45)
    beak_color = contrast(s, "orange", "red")
    eye_color = contrast(s, "black", "white")
    parts = [
        Part("body", ellipsoid(length, width, depth, rings=12, segments=24), s.main, s.material,
             place(z=depth)),
        Part("body", ellipsoid(0.16, 0.13, 0.1), s.main, s.material,
             place(x=-length * 0.85, z=depth * 1.45, ry=-35.0)),
        Part("head", sphere(head_r, rings=12, segments=20), s.main, s.material, place(*head)),
    ]
    for side in (-1.0, 1.0):
        parts.append(Part("body", ellipsoid(0.2, 0.06, 0.11, rings=8, segments=14), s.main, s.material,
                          place(x=-length * 0.1, y=side * width * 0.88, z=depth * 1.2, ry=-12.0)))
        eye = on_sphere(head, head_r * 0.93, 90.0 - 50.0 * side, 22.0)
        parts.append(Part("head", sphere(0.035, rings=6, segments=10), eye_color, "plastic", place(*eye)))
    beak_pitch = s.uniform(0.0, 12.0)
    parts.append(Part("beak", ellipsoid(0.13, 0.1, 0.045, rings=8, segments=16), beak_color, "rubber",
                      place(x=head[0] + head_r * 0.95, z=head[2] - head_r * 0.15, ry=beak_pitch)))
    if s.chance(0.3):
        s.facts["bow"] = True
        for side in (-1.0, 1.0):
            parts.append(Part("head", Lathe([(0.0, 0.0), (0.06, 0.1)], 12, squash=0.6), s.accent, "fabric",
                              place(x=head[0] - head_r * 0.4, y=side * 0.01, z=head[2] + head_r * 0.75,
                                    rx=-90.0 * side)))
    return parts
