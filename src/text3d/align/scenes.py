"""The two-stage curriculum's image–text pairs, made offline from toyworld.

GAP3D (Gkotsi et al., 2026), §4.4 and App. A, pre-trains the aligner on diverse general image–text
pairs (scenes with several objects and backgrounds) and then fine-tunes it on single-asset
renders from the least occluded of four views, each with one of the asset's captions. Here
both come from toyworld:

* stage 1, :func:`general_scene`: 2–4 toyworld objects of different categories standing apart
  on a common ground plane (z = 0, not drawn), seen from a random camera aimed off the scene's centre, over a random
  background colour; the caption names each object (color, optional size or material, noun,
  all toyworld's training words) and their left-to-right placement in the image.
* stage 2, :func:`stage2_pair`: one toyworld object at :func:`~text3d.align.views.least_occluded_view`
  with one of its toyworld captions (all of them are kept in ``ScenePair.captions`` so a trainer
  can draw a caption per epoch, as the paper does).

Both are deterministic in the seed. A pair of seed s is built from toyworld objects of seed s
only, so the held-out discipline of :mod:`text3d.data.toyworld.instance` carries over: callers
pass training seeds (``TRAIN_SEEDS``) for training, and held-out ones only to evaluate.
Images are rendered at 2× and area-downsampled, like the embedded encoders' training views.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from text3d.align.views import least_occluded_view
from text3d.assets.asset import Asset
from text3d.assets.color import hex_to_srgb
from text3d.data.toyworld.instance import SEED_RANGES, Instance, make_instance, make_object, part_texts, seed_range
from text3d.data.toyworld.objects import ToyObject
from text3d.data.toyworld.vocabulary import (
    CATEGORIES,
    CATEGORY_NAMES,
    COLOR_WORDS,
    MATERIALS,
    PALETTE,
    SIZE_WORDS,
    SIZES,
    load_programs,
)
from text3d.errors import InputError
from text3d.limits import MAX_RESOLUTION, MIN_RESOLUTION, check_range
from text3d.render.cameras import Camera
from text3d.render.renderer import render
from text3d.text import MAX_CAPTION_WORDS, join_phrases, with_article, word_count

log = logging.getLogger(__name__)

STAGES = (1, 2)
"""1: general scenes (pre-training); 2: single objects at their least occluded view (fine-tuning)."""
SUPERSAMPLE = 2
"""Images are rendered at this multiple of the asked resolution and area-downsampled."""
SCENE_STREAM = 5_170_001
STAGE2_STREAM = 5_170_002
"""Tags of the pairs' own random streams, default_rng([tag, seed]), apart from toyworld's
(category, seed, stream) draws."""
OBJECTS = (2, 4)
"""Objects per general scene, both ends included."""
PITCH = (10.0, 40.0)
"""General scenes' camera pitch range, degrees."""
FOV = 40.0
"""Vertical field of view of every camera, degrees (the protocols' FoV)."""
OFFSET = (0.5, 0.85)
"""The look-at point lies this far (× the scene's radius) from the scene's centre, in a random
direction on the ground plane, so the crop is not object-centred."""
ZOOM = (0.6, 1.0)
"""Camera distance as a multiple of the distance at which the scene's bounding sphere just fits."""
GAP = 0.12
"""Least ground clearance between two objects' footprints (world units; objects are ≤ 1 wide)."""
MIN_SHOWN = 0.01
"""An object is named only when at least this fraction of the image shows it, unoccluded."""
CAMERA_TRIES = 8
"""Random cameras tried before falling back to a high, centred one that shows every object."""


@dataclass(frozen=True, eq=False)
class ScenePair:
    """One image–text pair of the curriculum.

    ``image``: uint8 (H, W, 3) sRGB; ``caption``: the text paired with it, one of ``captions``
    (every text the pair may be trained with); ``objects``: the toyworld categories the caption
    names, in its order; ``mask``: bool (H, W), the objects' pixels; ``camera``: the camera the
    image was rendered from (for a general scene, in the scene frame shifted so its look-at
    point is the origin); ``asset``: the single object of a stage-2 pair (None for a scene).
    """

    image: np.ndarray
    caption: str
    seed: int
    objects: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()
    mask: np.ndarray | None = None
    camera: Camera | None = None
    asset: Asset | None = None


def _category_names() -> tuple[str, ...]:
    programs = load_programs()
    return tuple(c for c in CATEGORY_NAMES if c in programs)


def _check(seed: int, resolution: int) -> None:
    seed_range(seed)  # rejects seeds outside toyworld's ranges
    check_range("resolution", resolution, MIN_RESOLUTION, MAX_RESOLUTION // SUPERSAMPLE)


def _downsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Area mean of factor × factor blocks: (H·f, W·f, ...) → (H, W, ...) float64."""
    h, w = image.shape[0] // factor, image.shape[1] // factor
    return image.reshape(h, factor, w, factor, *image.shape[2:]).mean(axis=(1, 3))


def _placed(asset: Asset, degrees: float, scale: float, offset: np.ndarray) -> Asset:
    """``asset`` turned ``degrees`` about +Z, scaled, then moved by ``offset`` (3,)."""
    a = math.radians(degrees)
    rot = np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])
    out = asset.copy()
    out.vertices = (asset.vertices.astype(np.float64) @ rot.T * scale + offset).astype(np.float32)
    if asset.vertex_normals is not None:
        out.vertex_normals = (asset.vertex_normals @ rot.T).astype(np.float32)
    return out


# --------------------------------------------------------------------------- stage 1
def _layout(rng: np.random.Generator, categories: list[str], seed: int) -> list[tuple[Asset, dict]]:
    """Each object (asset, toyworld attributes) standing on z = 0 at its own spot: a random
    heading, scaled by its size word (√(SIZES[size] / SIZES["large"])), footprint discs at least
    GAP apart."""
    placed: list[tuple[Asset, dict]] = []
    spots: list[tuple[np.ndarray, float]] = []  # (xy centre, footprint radius)
    half = 0.25 + 0.3 * len(categories)  # half-width of the square the spots are drawn in
    for category in categories:
        obj = make_object(category, seed)
        scale = math.sqrt(SIZES[obj.attributes["size"]] / max(SIZES.values()))
        turned = _placed(obj.to_asset(), float(rng.uniform(0.0, 360.0)), scale, np.zeros(3))
        radius = float(np.linalg.norm(turned.vertices[:, :2], axis=1).max())
        xy = None
        for _ in range(30):
            trial = rng.uniform(-half, half, size=2)
            if all(np.linalg.norm(trial - c) >= radius + r + GAP for c, r in spots):
                xy = trial
                break
        if xy is None:  # crowded: beyond every spot so far along +X
            xy = np.array([max(c[0] + r for c, r in spots) + GAP + radius, 0.0])
        spots.append((xy, radius))
        lift = -float(turned.vertices[:, 2].min())
        placed.append((_placed(turned, 0.0, 1.0, np.array([xy[0], xy[1], lift])), obj.attributes))
    return placed


def _layers(assets: list[Asset], camera: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each object rendered alone, then depth-composited: (rgb (H, W, 3) uint8 on black,
    front (H, W) index of the nearest object or −1, visible pixel count per object (n,))."""
    size = camera.resolution
    rgb = np.zeros((len(assets), size, size, 3), np.uint8)
    depth = np.full((len(assets), size, size), np.inf, np.float32)
    for i, asset in enumerate(assets):
        result = render(asset, [camera], background="black", depth=True)
        rgb[i] = result.rgb[0]
        depth[i][result.mask[0]] = result.depth[0][result.mask[0]]
    front = np.argmin(depth, axis=0)
    covered = np.isfinite(depth.min(axis=0))
    front = np.where(covered, front, -1)
    image = np.take_along_axis(rgb, np.maximum(front, 0)[None, :, :, None], axis=0)[0]
    counts = np.array([(front == i).sum() for i in range(len(assets))])
    return image, front, counts


def _scene_camera(rng: np.random.Generator, centre: np.ndarray, radius: float, size: int,
                  fallback: bool = False) -> tuple[Camera, np.ndarray]:
    """A camera and its look-at point (3,). Random: yaw U[0, 360), pitch U[PITCH], distance ZOOM ×
    the fitting distance r / sin(FoV/2), look-at point OFFSET × r off the centre on the ground
    plane. ``fallback``: pitch 60°, centred, at the fitting distance."""
    fit = radius / math.sin(math.radians(FOV) / 2.0)
    if fallback:
        yaw, pitch, distance, target = float(rng.uniform(0.0, 360.0)), 60.0, fit, centre
    else:
        yaw, pitch = float(rng.uniform(0.0, 360.0)), float(rng.uniform(*PITCH))
        distance = float(rng.uniform(*ZOOM)) * fit
        angle = float(rng.uniform(0.0, 2.0 * math.pi))
        shift = float(rng.uniform(*OFFSET)) * radius
        target = centre + np.array([math.cos(angle) * shift, math.sin(angle) * shift, 0.0])
    camera = Camera(yaw=yaw, pitch=pitch, radius=distance, fov=FOV, resolution=size, near=0.05,
                    far=distance + 3.0 * radius + 1.0)
    return camera, target


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _noun_phrase(rng: np.random.Generator, category: str, attributes: dict) -> str:
    """"a small green cactus": toyworld's training words for size (p 0.35), color, material
    (p 0.2, where the category names one) and noun (a synonym with p 0.25)."""
    info = CATEGORIES[category]
    color = _pick(rng, COLOR_WORDS[attributes["main_color"]])
    noun = info.noun if rng.random() < 0.75 else _pick(rng, info.words)
    adjective = MATERIALS[attributes["material"]].adjective
    words = [color]
    if info.named_material and rng.random() < 0.2 and adjective not in noun.split():  # not "rubber rubber duck"
        words.append(adjective)
    if rng.random() < 0.35:
        words.insert(0, _pick(rng, SIZE_WORDS[attributes["size"]]))
    return with_article(" ".join([*words, noun]))


def _scene_captions(rng: np.random.Generator, phrases: list[str], background: str) -> tuple[str, ...]:
    """Three captions of the phrases (ordered left to right in the image): chained to the left,
    chained to the right, and listed; each names the background with probability 1/2."""
    if len(phrases) == 1:  # only when no camera showed two objects
        texts = list(phrases) * 3
    else:
        texts = [f"{phrases[0]} to the left of {join_phrases(phrases[1:])}",
                 f"{phrases[-1]} to the right of {join_phrases(phrases[:-1])}",
                 f"{join_phrases(phrases)}, from left to right"]
    out = []
    for text in texts:
        if rng.random() < 0.5:
            text += f", on {with_article(background)} background"
        text = text[0].upper() + text[1:] + "."
        if word_count(text) > MAX_CAPTION_WORDS:
            raise InputError(f"scene caption over {MAX_CAPTION_WORDS} words: {text!r}")
        out.append(text)
    return tuple(out)


def general_scene(seed: int, resolution: int = 64) -> ScenePair:
    """Stage 1's pair of ``seed``: a multi-object toyworld scene and its caption.

    Callers training the aligner pass training seeds (toyworld's ``TRAIN_SEEDS``). The objects
    are toyworld's (category, ``seed``) objects for 2–4 different categories drawn from the
    seed's own stream; objects covering less than MIN_SHOWN of the image are left unnamed.
    """
    _check(seed, resolution)
    rng = np.random.default_rng([SCENE_STREAM, seed])
    names = _category_names()
    n = int(rng.integers(OBJECTS[0], OBJECTS[1] + 1))
    categories = [names[int(i)] for i in rng.choice(len(names), size=n, replace=False)]
    assets, attributes = zip(*_layout(rng, categories, seed))
    points = np.concatenate([a.vertices for a in assets]).astype(np.float64)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2.0
    radius = float(np.linalg.norm(points - centre, axis=1).max())
    size = resolution * SUPERSAMPLE
    need = MIN_SHOWN * size * size
    best = None
    for attempt in range(CAMERA_TRIES + 1):
        camera, target = _scene_camera(rng, centre, radius, size, fallback=attempt == CAMERA_TRIES)
        layers = _layers([_placed(a, 0.0, 1.0, -target) for a in assets], camera)
        shown = int((layers[2] >= need).sum())
        if best is None or shown > best[0]:
            best = (shown, camera, layers)
        if shown == n:
            break
        log.debug("scene %d: camera %d shows %d of %d objects", seed, attempt, shown, n)
    _, camera, (rgb, front, counts) = best
    used = {attributes[i]["main_color"] for i in range(n)}
    background = [c for c in PALETTE if c not in used][int(rng.integers(len(PALETTE) - len(used)))]
    tint = np.clip(hex_to_srgb(PALETTE[background]) * 255.0 * rng.uniform(0.88, 1.08), 0.0, 255.0)  # a shade of it
    image = np.where((front >= 0)[..., None], rgb.astype(np.float64), tint)
    visible = [i for i in range(n) if counts[i] >= need]
    columns = np.arange(size)[None, :]
    order = sorted(visible, key=lambda i: float((columns * (front == i)).sum() / counts[i]))
    phrases = [_noun_phrase(rng, categories[i], attributes[i]) for i in order]
    captions = _scene_captions(rng, phrases, background)
    caption = captions[int(rng.integers(len(captions)))]
    mask = _downsample((front >= 0).astype(np.float64), SUPERSAMPLE) >= 0.5
    return ScenePair(image=np.rint(_downsample(image, SUPERSAMPLE)).astype(np.uint8), caption=caption, seed=seed,
                     objects=tuple(categories[i] for i in order), captions=captions, mask=mask, camera=camera)


# --------------------------------------------------------------------------- stage 2
def _stage2_instance(seed: int) -> Instance:
    """toyworld's (category, ``seed``) instance as a single object (a grouped one's partner left out)."""
    names = _category_names()
    category = names[seed % len(names)]
    instance = make_instance(category, seed)
    return make_instance(category, seed, kind="basic") if instance.partner is not None else instance


def _least_occluded_image(asset: Asset, seed: int, resolution: int, background: str,
                          ) -> tuple[np.ndarray, np.ndarray, Camera]:
    """(image uint8 (H, W, 3), mask bool (H, W), camera) of ``asset`` at its least occluded view."""
    view = least_occluded_view(asset, resolution=resolution * SUPERSAMPLE, seed=seed)
    result = render(asset, [view.camera], background=background)
    image = np.rint(_downsample(result.rgb[0].astype(np.float64), SUPERSAMPLE)).astype(np.uint8)
    return image, _downsample(result.mask[0].astype(np.float64), SUPERSAMPLE) >= 0.5, view.camera


def stage2_pair(seed: int, resolution: int = 64, background: str = "white") -> ScenePair:
    """Stage 2's pair of ``seed``: one toyworld object at its least occluded view, with one of
    its toyworld captions chosen by the seed.

    Callers training the aligner pass training seeds (toyworld's ``TRAIN_SEEDS``). The object
    is toyworld's (category, ``seed``) instance, category = the registered categories[seed mod
    their number]; a grouped instance's partner is left out (its captions are those of the
    instance made as a single object). ``background`` "white" matches the image-conditioned
    generator's and the embedded image encoder's training renders.
    """
    _check(seed, resolution)
    instance = _stage2_instance(seed)
    asset = instance.obj.to_asset()
    image, mask, camera = _least_occluded_image(asset, seed, resolution, background)
    captions = tuple(instance.captions)
    return ScenePair(image=image, caption=_stage2_choice(seed, captions), seed=seed,
                     objects=(instance.category,), captions=captions, mask=mask, camera=camera, asset=asset)


def stage2_caption(seed: int) -> str:
    """The caption of :func:`stage2_pair` ``(seed)``, without building or rendering the object."""
    seed_range(seed)
    return _stage2_choice(seed, tuple(_stage2_instance(seed).captions))


def _stage2_choice(seed: int, captions: tuple[str, ...]) -> str:
    rng = np.random.default_rng([STAGE2_STREAM, seed])
    return captions[int(rng.integers(len(captions)))]


TWIN_STRIDE = 7919
"""Twin j of seed s is drawn from seed s + j·TWIN_STRIDE, wrapped into s's own range."""


def _stated(obj: ToyObject) -> list[tuple[str, str, str, int]]:
    return sorted((p.name, p.color, p.material, p.count) for p in part_texts(obj))


def twin_objects(seed: int, k: int, tries: int = 60) -> list[tuple[int, ToyObject]]:
    """Up to ``k`` (twin seed, object) pairs: other toyworld objects that share everything a caption of
    :func:`stage2_pair` (``seed``) can state — category, main and part colors, material, size,
    proportion word, counts and the set of parts — and differ in the unstated proportions. Twin
    seeds stay in ``seed``'s range; a draw whose optional parts differ is skipped, at most ``tries``."""
    span = SEED_RANGES[seed_range(seed)]
    instance = _stage2_instance(seed)
    a, want = instance.obj.attributes, _stated(instance.obj)
    counts = {name: int(v) for name, v in a.items() if type(v) is int}
    colors = {part.name: part.color for part in instance.obj.parts}
    found: list[tuple[int, ToyObject]] = []
    for j in range(1, tries + 1):
        if len(found) >= k:
            break
        other = span.start + (seed - span.start + j * TWIN_STRIDE) % len(span)
        obj = make_object(instance.category, other, main=a["main_color"], material=a["material"], size=a["size"],
                          shape=a["shape"], counts=counts, part_colors=colors)
        if _stated(obj) == want:
            found.append((other, obj))
    return found


def stage2_twins(seed: int, k: int, resolution: int = 64) -> list[ScenePair]:
    """The :func:`twin_objects` of ``seed``, each at its own least occluded view with the captions of
    ``seed``'s object: samples of p(image | caption) drawn from toyworld itself, the reference a
    perfect aligner would match (the twins differ only in unstated proportions and the view)."""
    _check(seed, resolution)
    captions = tuple(_stage2_instance(seed).captions)
    twins = []
    for other, obj in twin_objects(seed, k):
        asset = obj.to_asset()
        image, mask, camera = _least_occluded_image(asset, other, resolution, "white")
        twins.append(ScenePair(image=image, caption=captions[0], seed=other, objects=(obj.category,),
                               captions=captions, mask=mask, camera=camera, asset=asset))
    return twins


def pairs(stage: int, seeds: Iterable[int], resolution: int = 64) -> Iterator[ScenePair]:
    """The pairs of ``seeds`` for curriculum ``stage`` (1: :func:`general_scene`, 2: :func:`stage2_pair`).

    Callers training the aligner pass training seeds (toyworld's ``TRAIN_SEEDS``)."""
    if stage not in STAGES:
        raise InputError(f"curriculum stage {stage!r}: use 1 (general scenes) or 2 (single objects)")
    make = general_scene if stage == 1 else stage2_pair
    for seed in seeds:
        yield make(int(seed), resolution)
