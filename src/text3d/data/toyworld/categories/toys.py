"""Toys: ball, spinning top, block tower, drum, rubber duck.

This module also holds the small geometry helpers that ``characters`` and ``tools`` use
(aiming a z-axis primitive, capsules, sphere bands, counter-clockwise polygons).
Animals with a heading (the duck, the fish) point along +X like the vehicles, so the
3/4 camera sees their profile; upright figures face +Y.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from text3d.data.toyworld.shapes import Box, Extrusion, Lathe, Part, Torus, cylinder, ellipsoid, place, sphere
from text3d.data.toyworld.style import Style, category

Point = tuple[float, float, float]


# --------------------------------------------------------------------------- shared helpers
def aim(start: Point, end: Point) -> tuple[np.ndarray, float]:
    """Rigid transform putting a z-axis primitive's base at ``start``, pointing at ``end``; and the distance."""
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


def sphere_band(radius: float, z_low: float, z_high: float, grow: float = 0.02, steps: int = 5) -> Lathe:
    """The slice z_low ≤ z ≤ z_high of a sphere (centered at the origin) made ``grow`` larger:
    laid over the sphere it paints a stripe."""
    zs = np.linspace(z_low, z_high, steps)
    return Lathe([(float(math.sqrt(max(radius**2 - z**2, 0.0))) * (1 + grow), float(z)) for z in zs], 24)


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
@category("ball", materials=("rubber", "plastic"))
def ball(s: Style) -> list[Part]:
    """A ball with stripes: one or two latitude bands, or crossing great circles."""
    radius = 0.5
    pattern = s.choice(("band", "bands", "cross", "cross", "plain"))
    tilt, spin = s.uniform(-30.0, 30.0), s.uniform(0.0, 180.0)
    stripe = s.accent if s.chance(0.7) else contrast(s, "white", s.accent)
    parts = [Part("body", sphere(radius, rings=16, segments=24), s.main, s.material, place(z=radius))]
    half = s.uniform(0.06, 0.09)
    if pattern == "band":
        bands = [(place(z=radius, rz=spin, rx=tilt), -half * 1.2, half * 1.2)]
    elif pattern == "bands":
        gap = s.uniform(0.14, 0.22)
        bands = [(place(z=radius, rz=spin, rx=tilt), z - half, z + half) for z in (-gap, gap)]
    elif pattern == "cross":
        bands = [(place(z=radius, rz=spin + turn, rx=90.0), -half, half) for turn in (0.0, 90.0)]
    else:
        bands = []
    for transform, low, high in bands:
        parts.append(Part("stripe", sphere_band(radius, low, high), stripe, s.material, transform))
    s.facts["stripes"] = len(bands)
    return parts


@category("spinning_top", materials=("wood", "plastic", "metal"))
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
    parts = [
        Part("body", Lathe(profile, 28), s.main, s.material, lean @ place(z=tip_height)),
        Part("tip", Lathe([(0.0, 0.0), (0.06, tip_height + 0.02)], 16), s.choice(("gray", "black")), "metal", lean),
        Part("handle", cylinder(0.055, handle_length + 0.02, segments=16), handle_color, s.material,
             lean @ place(z=tip_height + height - 0.02)),
        Part("handle", sphere(0.075, rings=8, segments=16), handle_color, s.material,
             lean @ place(z=tip_height + height + handle_length)),
    ]
    if s.chance(0.6):
        s.facts["stripe"] = True
        low, high = height * (waist - 0.12), height * (waist + 0.06)
        zs = np.linspace(low, high, 4)
        radii = np.interp(zs, [z for _, z in profile], [r for r, _ in profile]) * 1.03
        band = Lathe([(float(r), float(z)) for r, z in zip(radii, zs)], 28)
        parts.append(Part("body", band, contrast(s, s.accent, "white"), s.material, lean @ place(z=tip_height)))
    return parts


@category("block_tower", materials=("wood", "plastic"))
def block_tower(s: Style) -> list[Part]:
    """Toy blocks stacked a little crooked, big to small, maybe crowned by a roof or a round block."""
    count = s.integer(3, 5)
    width = s.uniform(0.34, 0.4)
    if s.shape == "tall":
        count += 1
    elif s.shape == "short":
        count, width = max(3, count - 1), width * 1.25
    alternate = s.chance(0.6)
    taper = s.uniform(0.0, 0.035)
    parts, z = [], 0.0
    for level in range(count):
        side = width - taper * level
        tall = side * s.uniform(0.8, 1.0) * (0.85 if s.shape == "short" else 1.0)
        color = s.accent if alternate and level % 2 == 1 else s.main
        jitter = place(x=s.uniform(-0.03, 0.03), y=s.uniform(-0.03, 0.03), z=z + tall / 2, rz=s.uniform(-20.0, 20.0))
        parts.append(Part("block", Box(side, side, tall), color, s.material, jitter))
        z += tall
    top = s.choice(("none", "none", "roof", "round"))
    side = width - taper * count
    color = s.accent if alternate and count % 2 == 1 else s.main
    if top == "roof":
        roof = Extrusion([(-side / 2, 0.0), (side / 2, 0.0), (0.0, side * 0.6)], side)
        parts.append(Part("block", roof, color, s.material, place(z=z, rx=90.0, rz=s.uniform(-20.0, 20.0))))
    elif top == "round":
        parts.append(Part("block", cylinder(side / 2, side * 0.8), color, s.material, place(z=z)))
    if top != "none":
        s.facts["top"] = top
    s.facts["blocks"] = len(parts)
    return parts


@category("drum", materials=("wood", "metal", "plastic"))
def drum(s: Style) -> list[Part]:
    """A drum: colored shell, light drumhead, two rims, and zigzag cords or lugs on the side."""
    radius = s.uniform(0.42, 0.48) * s.stretch("wide", 1.3)
    height = s.uniform(0.4, 0.5) * s.stretch("tall", 1.4)
    rim_tube = 0.04
    rim_color, rim_material = s.choice(((contrast(s, s.accent, "white"), "plastic"), (contrast(s, "gray", "white"),
                                        "metal"), (contrast(s, "yellow", "gray"), "metal")))
    parts = [
        Part("shell", cylinder(radius, height, segments=32), s.main, s.material),
        Part("drumhead", cylinder(radius - 0.01, 0.05, segments=32), contrast(s, "white", "gray"), "fabric",
             place(z=height - 0.035)),
        Part("rim", Torus(radius + 0.005, rim_tube, 32, 8), rim_color, rim_material, place(z=height)),
        Part("rim", Torus(radius + 0.005, rim_tube, 32, 8), rim_color, rim_material, place(z=rim_tube)),
    ]
    trim = s.choice(("cords", "lugs", "none"))
    around = s.integer(5, 7) if trim == "lugs" else 6
    for k in range(around):
        angle = 2 * math.pi * k / around
        if trim == "cords":
            half_step = math.pi / around
            for start, end in ((angle - half_step, angle), (angle + half_step, angle)):
                low = ((radius + 0.01) * math.cos(start), (radius + 0.01) * math.sin(start), rim_tube * 1.5)
                high = ((radius + 0.01) * math.cos(end), (radius + 0.01) * math.sin(end), height - rim_tube * 0.5)
                transform, length = aim(low, high)
                parts.append(Part("rim", cylinder(0.026, length, segments=8), rim_color, rim_material, transform))
        elif trim == "lugs":
            parts.append(Part("rim", Box(0.06, 0.07, height * 0.4), rim_color, rim_material,
                              place(z=height / 2, rz=math.degrees(angle)) @ place(x=radius)))
    if trim != "none":
        s.facts["trim"] = trim
    return parts


@category("rubber_duck", materials=("rubber", "plastic"))
def rubber_duck(s: Style) -> list[Part]:
    """A bath duck heading +X: round body with raised tail and wings, a big head, an orange beak."""
    length, width, depth = s.uniform(0.46, 0.52), s.uniform(0.32, 0.38), s.uniform(0.24, 0.29)
    head_r = s.uniform(0.19, 0.23)
    head = (length * 0.45, 0.0, depth * 2 + head_r * 0.45)
    beak_color = contrast(s, "orange", "red")
    eye_color = contrast(s, "black", "white")
    parts = [
        Part("body", ellipsoid(length, width, depth, rings=12, segments=24), s.main, s.material, place(z=depth)),
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
