"""Animals and characters: snowman, penguin, fish, robot, teddy bear.

Upright figures face +Y; the fish swims along +X so the 3/4 camera sees its profile.
Small details without a part name of their own (eyes, buttons, flippers) carry the name
of the part they sit on.
"""

from __future__ import annotations

import numpy as np

from text3d.data.toyworld.categories.toys import aim, capsule, ccw, contrast, lathe_pieces, on_sphere
from text3d.data.toyworld.declaration import CategoryInfo, category
from text3d.data.toyworld.shapes import Box, Extrusion, Lathe, Part, Torus, cylinder, ellipsoid, place, sphere
from text3d.data.toyworld.style import Style


def _eyes(name: str, center: tuple[float, float, float], radius: float, size: float, spread: float,
          elevation: float, color: str) -> list[Part]:
    """Two small spheres on a sphere (center, radius), ``spread`` degrees either side of the +Y direction."""
    return [Part(name, sphere(size, rings=6, segments=10), color, "plastic",
                 place(*on_sphere(center, radius, side * spread, elevation)))
            for side in (-1.0, 1.0)]


@category(CategoryInfo("snowman", "characters", "snowman", synonyms=("snow man",),
    paraphrases=("frosty figure", "snow figure"), test_paraphrases=("snowperson", "snowgirl", "snowboy"),
    parts=("base", "body", "head", "hat", "nose"), shapes=("tall",), size_m=1.5,
    materials=("plastic", "ceramic", "fabric"), main_part="body", shared_parts=("base", "head"),
    typical_colors=("white",), one_material=True, named_material=False))
def snowman(s: Style) -> list[Part]:
    """Three stacked balls, a carrot nose, coal eyes and buttons, a top hat or a bobble hat."""
    tall = s.stretch("tall", 1.2)
    base_r = 0.3
    body_r = base_r * s.uniform(0.68, 0.78)
    head_r = body_r * s.uniform(0.68, 0.8)
    squeeze = 0.82  # centers closer than touching so the balls overlap
    base_z = base_r * tall
    body_z = base_z + (base_r + body_r) * tall * squeeze
    head_z = body_z + (body_r + head_r) * tall * squeeze
    coal = contrast(s, "black", "gray")
    parts = [
        Part("base", ellipsoid(base_r, base_r, base_r * tall, rings=14, segments=22), s.main, s.material,
             place(z=base_z)),
        Part("body", ellipsoid(body_r, body_r, body_r * tall, rings=12, segments=20), s.main, s.material,
             place(z=body_z)),
        Part("head", ellipsoid(head_r, head_r, head_r * tall, rings=12, segments=20), s.main, s.material,
             place(z=head_z)),
    ]
    parts += _eyes("head", (0.0, 0.0, head_z), head_r * 0.95, 0.032, 28.0, 22.0, coal)
    buttons = s.integer(2, 3)
    s.facts["buttons"] = buttons
    for k in range(buttons):
        elevation = 35.0 - k * 30.0 + (12.0 if buttons == 2 else 0.0)
        spot = on_sphere((0.0, 0.0, body_z), body_r * 0.97, 0.0, elevation)
        parts.append(Part("body", sphere(0.035, rings=6, segments=10), coal, "plastic", place(*spot)))
    if s.chance(0.5):
        s.facts["arms"] = True
        for side in (-1.0, 1.0):
            start = (side * body_r * 0.7, 0.0, body_z + body_r * 0.2)
            end = (side * (body_r + 0.3), s.uniform(-0.05, 0.05),
                   body_z + body_r * 0.2 + s.uniform(0.1, 0.25))
            transform, length = aim(start, end)
            parts.append(Part("body", cylinder(0.038, length, segments=8), "brown", "wood", transform))
    if s.chance(0.4):
        s.facts["scarf"] = True
        neck_z = body_z + (body_r * tall) * 0.78
        parts.append(Part("body", Torus(body_r * 0.62, 0.055, 24, 8), contrast(s, s.accent, "red"), "fabric",
                          place(z=neck_z)))
        parts.append(Part("body", Box(0.09, 0.05, 0.2), contrast(s, s.accent, "red"), "fabric",
                          place(x=body_r * 0.35, y=body_r * 0.6, z=neck_z - 0.1, ry=-10.0)))
    nose_length = s.uniform(0.14, 0.2)
    parts.append(Part("nose", Lathe([(0.045, 0.0), (0.0, nose_length)], 12), contrast(s, "orange", "red"),
                      "plastic", place(y=head_r * 0.8, z=head_z - head_r * 0.05, rx=-95.0)))
    hat_z = head_z + head_r * tall * 0.75
    tilt = place(z=hat_z, ry=s.uniform(-12.0, 12.0), rx=s.uniform(-8.0, 4.0))
    if s.chance(0.6):
        s.facts["hat"] = "top hat"
        hat_color = contrast(s, "black", s.accent)
        crown = head_r * s.uniform(1.0, 1.3)
        parts += [
            Part("hat", cylinder(head_r * 1.3, 0.045, segments=20), hat_color, "fabric", tilt),
            Part("hat", cylinder(head_r * 0.8, crown, segments=20), hat_color, "fabric", tilt),
            Part("hat", cylinder(head_r * 0.82, 0.05, segments=20), contrast(s, "red", s.accent), "fabric",
                 tilt @ place(z=0.05)),
        ]
    else:
        s.facts["hat"] = "bobble hat"
        color = contrast(s, s.accent, "red")
        dome = [(head_r * 0.98, -0.06), (head_r * 0.95, 0.02), (head_r * 0.75, 0.12), (head_r * 0.4, 0.19),
                (0.0, 0.21)]
        parts += [Part("hat", Lathe(dome, 20), color, "fabric", tilt),
                  Part("hat", sphere(0.065, rings=8, segments=12), contrast(s, "white", "gray"), "fabric",
                       tilt @ place(z=0.24))]
    return parts


@category(CategoryInfo("penguin", "characters", "penguin", synonyms=("toy penguin",),
    paraphrases=("emperor bird", "antarctic bird"), test_paraphrases=("gentoo", "chinstrap", "rockhopper"),
    parts=("body", "belly", "head", "beak", "feet"), shapes=("tall", "short"), size_m=0.6,
    materials=("plastic", "fabric", "ceramic"), counts=(("feet", 2),), main_part="body", shared_parts=("head",),
    typical_colors=("black",), one_material=True))
def penguin(s: Style) -> list[Part]:
    """An upright penguin: egg body, white belly, round head, orange beak and feet, flippers."""
    half = s.uniform(0.36, 0.42) * s.stretch("tall", 1.25) * s.stretch("short", 0.8)
    width, depth = s.uniform(0.27, 0.31), s.uniform(0.24, 0.27)
    body_z = half + 0.03
    head_r = s.uniform(0.18, 0.21)
    head = (0.0, 0.02, body_z + half * 0.85 + head_r * 0.55)
    light = contrast(s, "white", s.other_color(s.main, "white", "orange"))
    orange = contrast(s, "orange", "yellow")
    parts = [
        Part("body", ellipsoid(width, depth, half, rings=14, segments=24), s.main, s.material,
             place(z=body_z)),
        Part("head", sphere(head_r, rings=12, segments=20), s.main, s.material, place(*head)),
        Part("belly", ellipsoid(width * 0.78, depth * 0.5, half * 0.78, rings=12, segments=20), light,
             s.material, place(y=depth * 0.58, z=body_z - half * 0.08)),
    ]
    if s.chance(0.5):
        s.facts["face"] = True
        mask = ellipsoid(head_r * 0.7, head_r * 0.4, head_r * 0.55, rings=8, segments=16)
        parts.append(Part("head", mask, light, s.material,
                          place(x=head[0], y=head[1] + head_r * 0.68, z=head[2] + head_r * 0.02)))
        pupils = "black" if light != "black" else "white"
        parts += _eyes("head", head, head_r * 1.08, 0.03, 28.0, 22.0, pupils)
    else:
        parts += _eyes("head", head, head_r * 0.96, 0.03, 30.0, 22.0, contrast(s, "black", "white"))
    for side in (-1.0, 1.0):
        flipper = ellipsoid(0.05, 0.12, half * 0.62, rings=8, segments=12)
        parts.append(Part("body", flipper, s.main, s.material, place(x=side * width * 0.97, y=-0.01,
                          z=body_z + half * 0.05, ry=side * s.uniform(12.0, 28.0))))
        parts.append(Part("feet", ellipsoid(0.08, 0.12, 0.035, rings=6, segments=12), orange, "rubber",
                          place(x=side * width * 0.42, y=depth * 0.6, z=0.035, rz=-side * 15.0)))
    beak = Lathe([(0.055, 0.0), (0.0, s.uniform(0.12, 0.16))], 12, squash=0.7)
    parts.append(Part("beak", beak, orange, "plastic",
                      place(x=head[0], y=head[1] + head_r * 0.85, z=head[2] - head_r * 0.15, rx=-100.0)))
    return parts


@category(CategoryInfo("fish", "characters", "fish", synonyms=("toy fish",), paraphrases=("goldfish", "trout"),
    test_paraphrases=("guppy", "tilapia", "herring"), parts=("body", "tail", "fin", "eyes"), shapes=("wide", "narrow"),
    size_m=0.3, materials=("plastic", "rubber", "ceramic"), counts=(("eyes", 2),), shared_parts=("tail", "fin"),
    typical_colors=("orange", "yellow", "blue"), one_material=True))
def fish(s: Style) -> list[Part]:
    """A fish heading +X: deep flattened body, forked tail, dorsal and side fins, eyes, maybe stripes."""
    depth = s.uniform(0.24, 0.29) * s.stretch("wide", 1.3) * s.stretch("narrow", 0.72)
    thickness = s.uniform(0.12, 0.15) * s.stretch("wide", 1.15) * s.stretch("narrow", 0.85)
    half_length = 0.38
    shape = [(0.22, -1.0), (0.55, -0.68), (0.9, -0.2), (1.0, 0.15), (0.86, 0.55), (0.52, 0.86), (0.0, 1.0)]
    profile = [(r * depth, x * half_length) for r, x in shape]
    tail_spread = s.uniform(0.2, 0.27)
    belly_fin = s.chance(0.5)
    axis_z = max(depth, tail_spread, depth * 0.7 + 0.1 if belly_fin else 0.0)  # lowest point on z = 0
    swim = place(z=axis_z, ry=90.0)  # lathe axis → +X
    squash = thickness / depth
    fin_color = s.accent if s.chance(0.6) else s.main
    stripes = s.choice((0, 0, 1, 2, 3))
    stripe_color = contrast(s, "white", s.accent) if fin_color == s.accent else s.accent
    centers = sorted(half_length * (0.35 - 0.45 * k) for k in range(stripes))
    pieces = lathe_pieces(profile, [z for c in centers for z in (c - 0.035, c + 0.035)], 24, squash)
    parts = [Part("body", piece, s.main, s.material, swim) for piece in pieces[::2]]
    parts += [Part("body", piece, stripe_color, s.material, swim) for piece in pieces[1::2]]
    if stripes:
        s.facts["stripes"] = stripes
    tail = ccw([(0.05, 0.05), (-0.2, tail_spread), (-0.13, 0.0), (-0.2, -tail_spread), (0.05, -0.05)])
    parts.append(Part("tail", Extrusion(tail, 0.06), fin_color, s.material,
                      place(x=-half_length - 0.02, z=axis_z, rx=90.0)))
    dorsal = ccw([(-0.2, -0.06), (0.12, -0.06), (0.02, 0.07), (-0.16, s.uniform(0.14, 0.2))])
    parts.append(Part("fin", Extrusion(dorsal, 0.056), fin_color, s.material,
                      place(z=axis_z + depth * 0.8, rx=90.0)))
    if belly_fin:
        s.facts["belly_fin"] = True
        belly = ccw([(-0.14, 0.04), (0.02, 0.04), (-0.12, -0.1)])
        parts.append(Part("fin", Extrusion(belly, 0.056), fin_color, s.material,
                          place(x=-0.06, z=axis_z - depth * 0.7, rx=90.0)))
    eye_x = half_length * 0.55
    eye_radius_here = float(np.interp(eye_x, [z for _, z in profile], [r for r, _ in profile]))
    eye_up = eye_radius_here * 0.3
    eye_side = squash * float(np.sqrt(eye_radius_here**2 - eye_up**2))
    for side in (-1.0, 1.0):
        parts.append(Part("fin", ellipsoid(0.1, 0.025, 0.05, rings=6, segments=12), fin_color, s.material,
                          place(x=0.05, y=side * thickness * 0.9, z=axis_z - depth * 0.3, ry=20.0,
                                rz=side * 20.0)))
        parts.append(Part("eyes", sphere(0.045, rings=6, segments=12), contrast(s, "black", "white"),
                          "plastic", place(x=eye_x, y=side * eye_side * 0.9, z=axis_z + eye_up)))
    return parts


@category(CategoryInfo("robot", "characters", "robot", synonyms=("toy robot", "android"),
    paraphrases=("automaton", "mech"), test_paraphrases=("golem", "mechanoid", "replicant"),
    parts=("torso", "head", "arms", "legs", "eyes"), shapes=("tall", "wide"), size_m=0.4,
    materials=("metal", "plastic"), counts=(("legs", 2), ("arms", 2)), shared_parts=("head", "arms", "legs"),
    typical_colors=("gray", "white", "blue"), one_material=True))
def robot(s: Style) -> list[Part]:
    """A boxy robot: legs with feet, torso with a chest panel, hanging arms, a head with eyes."""
    tall = s.stretch("tall", 1.25)
    width = s.uniform(0.4, 0.46) * s.stretch("wide", 1.3)
    leg_h, torso_h = 0.26 * tall, s.uniform(0.36, 0.42) * tall
    depth = 0.26
    limbs = s.main if s.chance(0.5) else contrast(s, "gray", "white")
    limb_material = s.material if limbs == s.main else "metal"
    leg = ccw([(-0.08, 0.0), (0.14, 0.0), (0.14, 0.07), (0.06, 0.07), (0.06, leg_h), (-0.08, leg_h)])
    parts = [Part("legs", Extrusion(leg, 0.13), limbs, limb_material, place(x=x, rx=90.0, rz=90.0))
             for x in (-width * 0.26, width * 0.26)]
    torso_z = leg_h + torso_h / 2
    parts.append(Part("torso", Box(width, depth, torso_h), s.main, s.material, place(z=torso_z)))
    if s.chance(0.7):
        s.facts["chest_panel"] = True
        panel = contrast(s, s.accent, "white")
        parts.append(Part("torso", Box(width * 0.5, 0.04, torso_h * 0.4), panel, "plastic",
                          place(y=depth / 2, z=torso_z + torso_h * 0.08)))
    shoulder_z = leg_h + torso_h * 0.85
    waving = s.chance(0.3)
    for side in (-1.0, 1.0):
        raised = waving and side > 0
        drop = 0.3 * tall
        reach = (side * (width / 2 + 0.22), 0.02, shoulder_z + 0.25) if raised else \
            (side * (width / 2 + s.uniform(0.06, 0.12)), 0.03, shoulder_z - drop)
        transform, length = aim((side * (width / 2 + 0.05), 0.0, shoulder_z), reach)
        parts.append(Part("arms", capsule(0.055, length, segments=12), limbs, limb_material, transform))
    if waving:
        s.facts["waving"] = True
    head_w, head_h = width * s.uniform(0.62, 0.8), s.uniform(0.2, 0.26)
    head_z = leg_h + torso_h + 0.04 + head_h / 2
    if s.chance(0.7):
        parts.append(Part("head", Box(head_w, depth * 0.9, head_h), s.main, s.material, place(z=head_z)))
    else:
        s.facts["round_head"] = True
        parts.append(Part("head", cylinder(head_w / 2, head_h, segments=20), s.main, s.material,
                          place(z=head_z - head_h / 2)))
    parts.append(Part("head", cylinder(0.05, 0.06, segments=12), "gray", "metal",
                      place(z=leg_h + torso_h - 0.01)))
    glow = contrast(s, s.choice(("yellow", "teal", "red", s.accent)), "white")
    eyes = s.count("eyes", 1, 3)  # one eye is a visor
    if eyes == 1:
        face_y = depth * 0.45 if "round_head" not in s.facts else head_w / 2 - 0.01
        parts.append(Part("eyes", Box(head_w * 0.7, 0.05, 0.06), glow, "glass",
                          place(y=face_y, z=head_z + head_h * 0.1)))
    else:
        spread, eye_r = (0.22, 0.045) if eyes == 2 else (0.28, 0.032)
        for x in np.linspace(-spread, spread, eyes) * head_w:
            round_face = float(np.sqrt((head_w / 2) ** 2 - x**2)) - 0.01
            face_y = round_face if "round_head" in s.facts else depth * 0.45
            parts.append(Part("eyes", cylinder(eye_r, 0.04, segments=12), glow, "glass",
                              place(x=float(x), y=face_y, z=head_z + head_h * 0.1, rx=-90.0)))
    if s.chance(0.5):
        s.facts["antenna"] = True
        top = head_z + head_h / 2
        parts += [Part("head", cylinder(0.025, 0.1, segments=8), "gray", "metal", place(z=top - 0.01)),
                  Part("head", sphere(0.045, rings=6, segments=10), contrast(s, "red", s.accent), "plastic",
                       place(z=top + 0.12))]
    return parts


@category(CategoryInfo("teddy_bear", "characters", "teddy bear", synonyms=("bear", "toy bear"),
    paraphrases=("plush bear", "stuffed bear"), test_paraphrases=("bruin", "plushie", "grizzly"),
    parts=("body", "head", "ears", "arms", "legs", "snout"), size_m=0.4, materials=("fabric", "fabric", "plastic"),
    counts=(("legs", 2), ("arms", 2), ("ears", 2)), main_part="body", shared_parts=("head", "ears", "arms", "legs"),
    typical_colors=("brown", "white", "pink"), one_material=True))
def teddy_bear(s: Style) -> list[Part]:
    """A sitting teddy: plump body, legs forward, arms, round head with ears and a light snout."""
    body_w, body_h = s.uniform(0.24, 0.28), s.uniform(0.28, 0.32)
    head_r = s.uniform(0.2, 0.24)
    body_z = body_h
    head = (0.0, 0.02, body_z + body_h * 0.82 + head_r * 0.7)
    light = contrast(s, "white", s.choice(("brown", "pink")))
    limb_r = s.uniform(0.085, 0.1)
    parts = [Part("body", ellipsoid(body_w, body_w * 0.85, body_h, rings=12, segments=20), s.main, s.material,
                  place(z=body_z))]
    if s.chance(0.5):
        s.facts["belly_patch"] = True
        parts.append(Part("body", ellipsoid(body_w * 0.65, 0.06, body_h * 0.6, rings=8, segments=14), light,
                          s.material, place(y=body_w * 0.7, z=body_z - body_h * 0.1)))
    for side in (-1.0, 1.0):
        hip = (side * body_w * 0.55, 0.0, limb_r + 0.01)
        foot = (side * body_w * s.uniform(0.75, 0.95), body_w + s.uniform(0.1, 0.16), limb_r + 0.01)
        transform, length = aim(hip, foot)
        parts.append(Part("legs", capsule(limb_r * 1.1, length + limb_r, segments=14), s.main, s.material,
                          transform))
        shoulder = (side * body_w * 0.8, 0.02, body_z + body_h * 0.5)
        hand = (side * (body_w + s.uniform(0.06, 0.12)), body_w * 0.9, body_z - body_h * s.uniform(0.1, 0.4))
        transform, length = aim(shoulder, hand)
        parts.append(Part("arms", capsule(limb_r, length, segments=14), s.main, s.material, transform))
        ear = on_sphere(head, head_r * 0.9, side * 62.0, 45.0)
        ear_shape = ellipsoid(head_r * 0.38, head_r * 0.22, head_r * 0.38, rings=8, segments=14)
        parts.append(Part("ears", ear_shape, s.main, s.material, place(*ear, rz=-side * 25.0)))
    parts.append(Part("head", sphere(head_r, rings=12, segments=20), s.main, s.material, place(*head)))
    parts += _eyes("head", head, head_r * 0.96, 0.028, 30.0, 18.0, contrast(s, "black", "white"))
    snout = (head[0], head[1] + head_r * 0.78, head[2] - head_r * 0.25)
    muzzle = ellipsoid(head_r * 0.45, head_r * 0.4, head_r * 0.33, rings=8, segments=14)
    parts.append(Part("snout", muzzle, light, s.material, place(*snout)))
    nose = contrast(s, "black", "gray")
    parts.append(Part("snout", ellipsoid(0.045, 0.03, 0.03, rings=6, segments=10), nose, "plastic",
                      place(x=snout[0], y=snout[1] + head_r * 0.38, z=snout[2] + head_r * 0.12)))
    if s.chance(0.35):
        s.facts["bow"] = True
        neck = (0.0, body_w * 0.6, body_z + body_h * 0.88)
        for side in (-1.0, 1.0):
            bow = Lathe([(0.0, 0.0), (0.06, 0.11)], 12, squash=0.5)
            parts.append(Part("body", bow, contrast(s, s.accent, "red"), "fabric",
                              place(*neck, ry=90.0 * side)))
    return parts
