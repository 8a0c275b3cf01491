"""Composing the caption from a :class:`~.reading.Reading`: the last pass.

A matched category contributes its named parts, each with a plausible palette color, material
and shape word (``_part_looks``; later parts painted as toyworld paints them, ``_part_palettes``);
the user's colors and material go to the main part, and every typed word stays in the caption.
A short prompt with grounded words is described in toyworld's words and closed by the typed
words in parentheses; a long one keeps its typed words in the head. Choices (template, part
colors, shape words) come from ``random.Random`` seeded with the seed, the attempt and the
prompt, so a seed always gives the same caption.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from text3d.data.toyworld.vocabulary import COLOR_NAMES, MATERIALS, NUMBER_WORDS
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
from text3d.prompts.clip_tokens import CLIP_CONTEXT_LENGTH, clip_token_count
from text3d.prompts.embedded.lexicon import COORDINATORS, is_attribute, lexicon
from text3d.prompts.embedded.reading import ObjectReading, Reading
from text3d.prompts.embedded.templates import (
    BARE_TEMPLATES,
    GENERIC_GROUP_TEMPLATES,
    GENERIC_TEMPLATES,
    GROUP_TEMPLATES,
    MULTI_TEMPLATES,
    PHRASE_TEMPLATES,
    SINGLE_TEMPLATES,
)
from text3d.text import MAX_CAPTION_WORDS, join_phrases, plural, singular, with_article, word_count

MAX_PARTS = 3
"""Parts named in a single-object caption (main part first)."""


@dataclass(frozen=True)
class _PartChoice:
    """The color word and material of one part, decided in caption order."""

    color: str | None
    material: str


def _choose(rng: random.Random, options: tuple[str, ...], fallback: tuple[str, ...]) -> str:
    return rng.choice(options or fallback)


def _decide_part(obj: ObjectReading, part: str, index: int, rng: random.Random, user_colors: list[str],
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


def _part_phrase(obj: ObjectReading, part: str, choice: _PartChoice, rng: random.Random) -> str:
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
    last = part.split()[-1]
    return phrase if (count or singular(last) != last) else with_article(phrase)


def _head(obj: ObjectReading) -> str:
    """The user's words for this object; simple phrases lose the colors/material moved to parts."""
    if not obj.simple or (obj.category is None and not obj.rewritten):
        return " ".join(obj.tokens)
    grounded_colors, grounded_sizes = dict(obj.grounded_colors), dict(obj.grounded_sizes)
    if obj.category is None:  # no parts to carry the colors: toyworld's words, attributes first
        toyworld = {**grounded_colors, **grounded_sizes}
        words = [(toyworld.get(i, t), i in toyworld or is_attribute(t)) for i, t in enumerate(obj.tokens)
                 if not (t.lower() == "in" and i + 1 in grounded_colors)]
        return " ".join([w for w, attribute in words if attribute] + [w for w, attribute in words if not attribute])
    moved = set(obj.colors) | ({obj.material} if obj.material is not None else set())
    if obj.rewritten:  # toyworld's words; the typed ones follow the caption
        noun = plural(obj.category.noun) if obj.plural else obj.category.noun  # "yachts" → "sailboats"
        kept = [grounded_sizes.get(i, t) for i, t in enumerate(obj.tokens)
                if i not in moved and (is_attribute(t) or i in grounded_sizes)] + [noun]
        return " ".join(kept)
    kept = []
    for index, token in enumerate(obj.tokens):
        between_moved = (index - 1 in moved or index == 0) and index + 1 in moved
        if index in moved or (token.lower() in COORDINATORS and between_moved):
            continue
        kept.append(token)
    return " ".join(kept)


def _with_article(obj: ObjectReading, head: str) -> str:
    return head if (obj.plural or obj.count > 1) else with_article(head)


def _parts(obj: ObjectReading, rng: random.Random, limit: int) -> list[str]:
    """Phrases for the category's parts, main part first, at most ``limit`` of them."""
    info = obj.category
    assert info is not None
    typed = {i: obj.tokens[i] for i in obj.colors}  # as typed: "grey" stays "grey"
    typed.update(obj.grounded_colors)  # "crimson" → "red" (the typed word stays in the head)
    user_colors = [typed[i] for i in sorted(typed)]
    materials = lexicon().materials
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


def _generic_caption(obj: ObjectReading, rng: random.Random, max_words: int) -> str:
    """A thing outside toyworld: its words as typed (or grounded) in generic object-centric phrasing."""
    head = _head(obj)
    if all(is_attribute(t) for t in obj.tokens):  # "red": no noun to describe
        head += " object"
    templates = GENERIC_GROUP_TEMPLATES if obj.plural else GENERIC_TEMPLATES
    for template in rng.sample(templates, len(templates)):
        text = template.format(a_head=_with_article(obj, head), head=head)
        if _fits(text, max_words):
            return _capitalize(text)
    return _capitalize(f"{_with_article(obj, head)} on a plain background.")


def _single_caption(obj: ObjectReading, rng: random.Random, max_words: int) -> str:
    if obj.category is None:
        return _generic_caption(obj, rng, max_words)
    head = _head(obj)
    if obj.count > 1 or obj.plural:
        templates = GROUP_TEMPLATES
    else:
        templates = SINGLE_TEMPLATES if obj.simple else PHRASE_TEMPLATES
    template = rng.choice(templates)
    parts = _parts(obj, rng, MAX_PARTS)
    while parts:
        text = template.format(a_head=_with_article(obj, head), head=head, parts=join_phrases(parts))
        if _fits(text, max_words):
            return _capitalize(text)
        parts.pop()
    if not obj.simple or obj.colors or obj.material is not None:
        head = " ".join(obj.tokens)  # no room for parts: keep every typed word in the head
    text = rng.choice(BARE_TEMPLATES).format(a_head=_with_article(obj, head))
    return _capitalize(text if _fits(text, max_words) else f"{_with_article(obj, head)}.")


def _multi_caption(objects: tuple[ObjectReading, ...], rng: random.Random, max_words: int) -> str:
    template = rng.choice(MULTI_TEMPLATES)
    count = NUMBER_WORDS.get(len(objects), str(len(objects)))
    for limit in (2, 1):
        described = []
        for obj in objects:
            phrase = _with_article(obj, _head(obj))
            if obj.category is not None:  # a thing outside toyworld has no parts to name
                phrase += " with " + join_phrases(_parts(obj, rng, limit))
            described.append(phrase)
        text = template.format(objects=", next to ".join(described), count=count)
        if _fits(text, max_words):
            return _capitalize(text)
    typed = join_phrases([_with_article(obj, " ".join(obj.tokens)) for obj in objects])
    return _capitalize(template.format(objects=typed, count=count))


def _describe(objects: tuple[ObjectReading, ...], rng: random.Random, max_words: int) -> str:
    return _single_caption(objects[0], rng, max_words) if len(objects) == 1 else _multi_caption(objects, rng, max_words)


def compose_caption(reading: Reading, seed: int = 0, attempt: int = 0, max_words: int = MAX_CAPTION_WORDS) -> str:
    """The caption of a read prompt (deterministic in the prompt, seed and attempt; "" when it
    names nothing)."""
    rng = random.Random(f"{seed}|{attempt}|{reading.prompt}")
    objects = reading.objects
    if not objects or not objects[0].tokens:
        return ""
    typed = reading.text
    short = word_count(typed) <= max_words // 3  # room for a described object and the typed words after it
    if short and any(o.rewritten for o in objects):
        text = _describe(objects, rng, max_words - word_count(typed) - 1)
        text = f"{text[:-1]} ({typed})."  # the typed words, kept by the caption rules, after toyworld's
        if _fits(text, max_words):
            return text
    return _describe(tuple(o.without_grounding() for o in objects), rng, max_words)  # typed words in the head
