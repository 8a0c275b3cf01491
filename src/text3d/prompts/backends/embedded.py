"""``embedded``: the offline default augmenter — no network, no model, deterministic per seed.

It writes the object-centric captions a 3D-asset caption needs (shape, parts, colors,
materials; one object, plain background) from toyworld's vocabulary:

* the prompt's head noun is matched against toyworld's category names and training synonyms,
  longest match first ("teddy bear" before "bear"), plurals included;
* words outside that vocabulary are grounded the way an LLM would read them, from general
  knowledge only — WordNet, the XKCD color names and MiniLM similarity
  (:mod:`text3d.prompts.grounding`), never toyworld's held-out word lists: "crimson yacht"
  → "A sailboat with a pointed red wooden hull, … (crimson yacht)."; toyworld's words come
  first and the typed words, which the caption rules keep, close the caption
  (prompt reading: :mod:`text3d.prompts.backends._prompt_parse`);
* a matched category contributes its named parts, each with a plausible palette color,
  material and shape word (``_part_looks``); the user's colors and material go to the main
  part, and every word the user typed stays in the caption;
* a prompt outside the vocabulary ("vintage brass telescope") keeps its words as typed inside
  generic object-centric phrasing.

Choices (template, part colors, shape words) come from ``random.Random`` seeded with the
seed, the attempt and the prompt, so a seed always gives the same caption.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from text3d.data.toyworld.vocabulary import (
    COLOR_NAMES,
    MATERIALS,
    NUMBER_WORDS,
)
from text3d.prompts.backends._caption_templates import (
    BARE_TEMPLATES,
    GENERIC_GROUP_TEMPLATES,
    GENERIC_TEMPLATES,
    GROUP_TEMPLATES,
    MULTI_TEMPLATES,
    PHRASE_TEMPLATES,
    SINGLE_TEMPLATES,
)
from text3d.prompts.backends._part_looks import (
    CATEGORY_MATERIALS,
    GROUP_MATERIALS,
    MAIN_COLORS,
    MAIN_PART,
    OWN_MATERIAL_PARTS,
    PART_COUNTS,
    PART_LOOKS,
    UNIFORM_PARTS,
    PartLook,
)
from text3d.prompts.backends._part_palettes import main_color_shares
from text3d.prompts.backends._part_palettes import main_part as measured_main_part
from text3d.prompts.backends._prompt_parse import (
    ObjectPhrase,
    article,
    is_attribute,
    lexicon,
    parse_object,
    plural,
    singular,
    split_objects,
)
from text3d.prompts.base import AugmentRequest, Completion, augmenters
from text3d.prompts.clip_tokens import CLIP_CONTEXT_LENGTH, clip_token_count
from text3d.prompts.rules import word_count

MODEL_VERSION = "toyworld-v5"  # v2: grounds words outside the vocabulary; v3: sizes, head-last, "noun, color";
# v4: "X of Y", "duck toy", "3d model of …", comma colors, WordNet definitions and plurals;
# v5: "a red telescope and a blue car" stays two objects; WordNet compounds naming no object ground to none;
# parts after the main one painted as toyworld paints them (measured, ``_part_palettes``)
MAX_PARTS = 3  # parts named in a single-object caption (main part first)
__all__ = ["EmbeddedAugmenter", "ObjectPhrase", "article", "embedded_caption", "parse_object", "singular",
           "split_objects"]


def _choose(rng: random.Random, options: tuple[str, ...], fallback: tuple[str, ...]) -> str:
    return rng.choice(options or fallback)


@dataclass
class _PartChoice:
    """The color word and material of one part, decided in caption order."""

    color: str | None
    material: str


def _decide_part(obj: ObjectPhrase, part: str, index: int, rng: random.Random, user_colors: list[str],
                 user_material: str | None, main: _PartChoice | None) -> _PartChoice:
    info = obj.category
    assert info is not None
    look = PART_LOOKS.get(part, PartLook())
    uniform = main is not None and part in UNIFORM_PARTS.get(info.name, frozenset())
    color: str | None = None
    if obj.simple:
        if index < len(user_colors):
            color = user_colors[index]
        elif index == 0 and info.name in MAIN_COLORS:
            color = rng.choice(MAIN_COLORS[info.name])
        elif index == 0 or main is None:
            color = _choose(rng, look.colors, COLOR_NAMES)
        else:
            color = _measured_color(info.name, part, main.color, rng) or _choose(rng, look.colors, COLOR_NAMES)
    if index == 0 and user_material:
        material = user_material
    elif uniform and main is not None:
        material = main.material
    elif info.name in CATEGORY_MATERIALS and part not in OWN_MATERIAL_PARTS:
        material = rng.choice(CATEGORY_MATERIALS[info.name])
    else:
        material = _choose(rng, look.materials, GROUP_MATERIALS.get(info.group, ("",)))
    return _PartChoice(color, material)


def _measured_color(category: str, part: str, main_color: str | None, rng: random.Random) -> str | None:
    """The main part's color for a later part with the share toyworld paints it so
    (``_part_palettes``); ``None``: a hand-picked color is drawn instead."""
    share = main_color_shares(category).get(part, 0.0)
    return main_color if main_color is not None and rng.random() < share else None


def _part_phrase(obj: ObjectPhrase, part: str, choice: _PartChoice, rng: random.Random) -> str:
    info = obj.category
    assert info is not None
    look = PART_LOOKS.get(part, PartLook())
    words: list[str] = []
    count = PART_COUNTS.get((info.name, part))
    if count:
        words.append(NUMBER_WORDS.get(count, str(count)))
    if look.shapes and rng.random() < 0.45:
        words.append(rng.choice(look.shapes))
    if choice.color:
        words.append(choice.color)
    if choice.material:
        words.append(MATERIALS[choice.material].adjective)
    words.append(part)
    phrase = " ".join(words)
    plural_part = singular(part.split()[-1]) != part.split()[-1]
    return phrase if (count or plural_part) else f"{article(phrase)} {phrase}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _head(obj: ObjectPhrase) -> str:
    """The user's words for this object; simple phrases lose the colors/material moved to parts."""
    if not obj.simple or (obj.category is None and not _rewritten(obj)):
        return " ".join(obj.tokens)
    if obj.category is None:  # no parts to carry the colors: toyworld's words, attributes first
        toyworld = {**obj.grounded_colors, **obj.grounded_sizes}
        words = [(toyworld.get(i, t), i in toyworld or is_attribute(t)) for i, t in enumerate(obj.tokens)
                 if not (t.lower() == "in" and i + 1 in obj.grounded_colors)]
        return " ".join([w for w, attribute in words if attribute] + [w for w, attribute in words if not attribute])
    moved = set(obj.colors) | ({obj.material} if obj.material is not None else set())
    kept = []
    for index, token in enumerate(obj.tokens):
        between_moved = (index - 1 in moved or index == 0) and index + 1 in moved
        if index in moved or (token.lower() in ("and", "&", "or") and between_moved):
            continue
        kept.append(token)
    if _rewritten(obj):  # toyworld's words; the typed ones follow the caption
        noun = plural(obj.category.noun) if obj.plural else obj.category.noun  # "yachts" → "sailboats"
        kept = [obj.grounded_sizes.get(i, t) for i, t in enumerate(obj.tokens)
                if i not in moved and (is_attribute(t) or i in obj.grounded_sizes)] + [noun]
    return " ".join(kept)


def _rewritten(obj: ObjectPhrase) -> bool:
    """Whether the caption names this object in toyworld's words instead of the typed ones: a
    simple phrase ("crimson yacht", "teapot in rose", "crimson griddle") with a grounded
    category, color or size."""
    return obj.simple and (obj.grounded is not None or bool(obj.grounded_colors) or bool(obj.grounded_sizes))


def _with_article(obj: ObjectPhrase, head: str) -> str:
    return head if (obj.plural or obj.count > 1) else f"{article(head)} {head}"


def _parts(obj: ObjectPhrase, rng: random.Random, limit: int) -> list[str]:
    """Phrases for the category's parts, main part first, at most ``limit`` of them."""
    info = obj.category
    assert info is not None
    _, _, materials, _ = lexicon()
    typed = {i: obj.tokens[i] for i in obj.colors}  # as typed: "grey" stays "grey"
    typed.update(obj.grounded_colors)  # "crimson" → "red" (the typed word stays in the head)
    user_colors = [typed[i] for i in sorted(typed)]
    user_material = materials[obj.tokens[obj.material].lower()] if obj.material is not None else None
    main_part = measured_main_part(info.name, info.parts, MAIN_PART.get(info.name))
    ordered = [main_part] + [p for p in info.parts if p != main_part]
    phrases = []
    main: _PartChoice | None = None
    for index, part in enumerate(ordered[: max(limit, 1)]):
        choice = _decide_part(obj, part, index, rng, user_colors, user_material, main)
        main = main or choice
        phrases.append(_part_phrase(obj, part, choice, rng))
    return phrases


def _fits(text: str, max_words: int) -> bool:
    return word_count(text) <= max_words and clip_token_count(text) <= CLIP_CONTEXT_LENGTH


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _single_caption(obj: ObjectPhrase, rng: random.Random, max_words: int) -> str:
    if obj.category is None:
        head = _head(obj)
        if all(is_attribute(t) for t in obj.tokens):  # "red": no noun to describe
            head += " object"
        templates = GENERIC_GROUP_TEMPLATES if obj.plural else GENERIC_TEMPLATES
        for template in rng.sample(templates, len(templates)):
            text = template.format(a_head=_with_article(obj, head), head=head)
            if _fits(text, max_words):
                return _capitalize(text)
        return _capitalize(f"{_with_article(obj, head)} on a plain background.")
    head = _head(obj)
    if obj.count > 1 or obj.plural:
        templates = GROUP_TEMPLATES
    else:
        templates = SINGLE_TEMPLATES if obj.simple else PHRASE_TEMPLATES
    template = rng.choice(templates)
    parts = _parts(obj, rng, MAX_PARTS)
    while parts:
        text = template.format(a_head=_with_article(obj, head), head=head, parts=_join(parts))
        if _fits(text, max_words):
            return _capitalize(text)
        parts.pop()
    if not obj.simple or obj.colors or obj.material is not None:
        head = " ".join(obj.tokens)  # no room for parts: keep every typed word in the head
    text = rng.choice(BARE_TEMPLATES).format(a_head=_with_article(obj, head))
    return _capitalize(text if _fits(text, max_words) else f"{_with_article(obj, head)}.")


def _multi_caption(objects: list[ObjectPhrase], rng: random.Random, max_words: int) -> str:
    template = rng.choice(MULTI_TEMPLATES)
    count = NUMBER_WORDS.get(len(objects), str(len(objects)))
    for limit in (2, 1, 0):
        described = []
        for obj in objects:
            head = _head(obj) if limit else " ".join(obj.tokens)
            phrase = _with_article(obj, head)
            if limit and obj.category is not None:  # a thing outside toyworld has no parts to name
                phrase += " with " + _join(_parts(obj, rng, limit))
            described.append(phrase)
        text = template.format(objects=_join(described) if limit == 0 else ", next to ".join(described),
                               count=count)
        if _fits(text, max_words) or limit == 0:
            return _capitalize(text)
    raise AssertionError("unreachable")


def embedded_caption(prompt: str, seed: int = 0, attempt: int = 0, max_words: int = 40) -> str:
    """The embedded augmenter's caption for ``prompt`` (deterministic in prompt, seed, attempt)."""
    rng = random.Random(f"{seed}|{attempt}|{prompt}")
    typed = " ".join(prompt.split())
    objects = split_objects(typed)
    if not objects or not objects[0].tokens:
        return ""
    short = word_count(typed) <= max_words // 3  # room for a described object and the typed words after it
    if short and any(_rewritten(o) for o in objects):
        budget = max_words - word_count(typed) - 1
        text = _single_caption(objects[0], rng, budget) if len(objects) == 1 else _multi_caption(objects, rng, budget)
        text = f"{text[:-1]} ({typed})."  # the typed words, kept by the caption rules, after toyworld's
        if _fits(text, max_words):
            return text
    for obj in objects:
        # a long prompt: its typed words stay in the head
        obj.grounded, obj.grounded_colors, obj.grounded_sizes = None, {}, {}
    if len(objects) == 1:
        return _single_caption(objects[0], rng, max_words)
    return _multi_caption(objects, rng, max_words)


@augmenters.register("embedded")
class EmbeddedAugmenter:
    """Template captions from toyworld's vocabulary (see the module docstring)."""

    backend = "embedded"
    cacheable = False  # faster than a cache lookup
    identity = False

    def __init__(self, model: str = "") -> None:
        if model and model != MODEL_VERSION:
            from text3d.errors import InputError

            raise InputError(f"embedded augmenter {model!r}: the only version is {MODEL_VERSION!r}")
        self.model = MODEL_VERSION

    def propose(self, request: AugmentRequest) -> Completion:
        """One caption for the request's prompt; no tokens are counted (no language model runs)."""
        text = embedded_caption(request.prompt, request.seed, request.attempt, request.params.max_words)
        return Completion(text=text, model=self.model)
