"""Prompts and captions of toyworld instances, written from their metadata.

Prompt kinds follow MATE-3D / T³Bench: ``basic`` (color + noun), ``refined`` (size or
proportion, color, material, noun), ``complex`` (several parts and attributes),
``grouped`` (two objects side by side), plus ``paraphrase`` (held-out words and other
word orders; held-out seeds only). Every prompt has ≤ 6 words; every caption ≤ 40 words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from text3d.data.toyworld.vocabulary import (
    CATEGORIES,
    COLOR_PARAPHRASES,
    COLOR_TEST_PARAPHRASES,
    COLOR_WORDS,
    MATERIAL_PARAPHRASES,
    MATERIAL_TEST_PARAPHRASES,
    MATERIALS,
    NUMBER_WORDS,
    SIZE_PARAPHRASES,
    SIZE_TEST_PARAPHRASES,
    SIZE_WORDS,
)
from text3d.text import MAX_CAPTION_WORDS, MAX_PROMPT_WORDS, article, join_phrases, with_article, word_count


@dataclass(frozen=True)
class PartText:
    """One named part as the text sees it: its name, palette color and material."""

    name: str
    color: str
    material: str
    count: int = 1


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _with_article(phrase: str, part: PartText) -> str:
    """"a red seat", but "four legs" and "black windows" (plural part names take none)."""
    if part.count > 1 or part.name.endswith("s"):
        return phrase
    return with_article(phrase)


def _fit(candidates: list[str]) -> str:
    """The first candidate of at most MAX_PROMPT_WORDS words (the last one is always short)."""
    for text in candidates:
        if word_count(text) <= MAX_PROMPT_WORDS:
            return text
    return candidates[-1]


def _noun(rng: np.random.Generator, category: str, p_synonym: float = 0.25) -> str:
    info = CATEGORIES[category]
    return _pick(rng, info.synonyms) if info.synonyms and rng.random() < p_synonym else info.noun


def _part_phrase(part: PartText, with_material: bool = True) -> str:
    count = f"{NUMBER_WORDS[part.count]} " if part.count > 1 and part.count in NUMBER_WORDS else ""
    material = f"{MATERIALS[part.material].adjective} " if with_material else ""
    return f"{count}{part.color} {material}{part.name}"


# --------------------------------------------------------------------------- prompts
def basic_prompt(rng: np.random.Generator, category: str, color: str) -> str:
    return _fit([f"{_pick(rng, COLOR_WORDS[color])} {_noun(rng, category)}", CATEGORIES[category].noun])


def refined_prompt(rng: np.random.Generator, category: str, color: str, size: str, shape: str | None,
                   material: str) -> str:
    noun = _noun(rng, category)
    size_word = shape if shape and rng.random() < 0.5 else _pick(rng, SIZE_WORDS[size])
    adjective = MATERIALS[material].adjective
    return _fit([f"{size_word} {color} {adjective} {noun}", f"{color} {adjective} {noun}", f"{color} {noun}"])


def complex_prompt(rng: np.random.Generator, category: str, color: str, parts: list[PartText]) -> str:
    noun = _noun(rng, category, p_synonym=0.1)
    distinct = [p for p in parts if p.color != color] or parts
    first = distinct[int(rng.integers(len(distinct)))]
    others = [p for p in distinct if p.name != first.name]
    candidates = []
    if others:
        second = others[int(rng.integers(len(others)))]
        candidates.append(f"{noun} with {first.color} {first.name}, {second.color} {second.name}")
    candidates += [f"{color} {noun} with {first.color} {first.name}", f"{noun} with {first.color} {first.name}",
                   f"{color} {noun}"]
    return _fit(candidates)


def grouped_prompt(rng: np.random.Generator, category: str, color: str, other: str, other_color: str) -> str:
    a, b = CATEGORIES[category].noun, CATEGORIES[other].noun
    link = _pick(rng, ("beside", "next to", "and"))
    return _fit([f"{color} {a} {link} {other_color} {b}", f"{color} {a} and {b}", f"{a} and {b}"])


def paraphrase_prompt(rng: np.random.Generator, category: str, color: str, size: str, material: str,
                      test: bool = False) -> str:
    """A prompt in held-out words: the development word list, or the test one when ``test``."""
    info = CATEGORIES[category]
    noun = _pick(rng, info.test_paraphrases if test else info.paraphrases)
    c = _pick(rng, (COLOR_TEST_PARAPHRASES if test else COLOR_PARAPHRASES)[color])
    sz = _pick(rng, (SIZE_TEST_PARAPHRASES if test else SIZE_PARAPHRASES)[size])
    m = _pick(rng, (MATERIAL_TEST_PARAPHRASES if test else MATERIAL_PARAPHRASES)[material])
    patterns = [f"{sz} {c} {noun}", f"{noun}, {c}", f"{c} {m} {noun}", f"{noun} in {c}", f"{sz} {noun} in {c}",
                f"{c} {noun}, {sz}"]
    start = int(rng.integers(len(patterns)))
    return _fit(patterns[start:] + patterns[:start] + [f"{c} {noun}"])


# --------------------------------------------------------------------------- captions
def captions(rng: np.random.Generator, category: str, color: str, size: str, shape: str | None,
             material: str, parts: list[PartText], partner: tuple[str, str] | None = None) -> list[str]:
    """Three captions in different styles (≤ 40 words each)."""
    noun = CATEGORIES[category].noun
    shown = parts[:4]
    size_word = _pick(rng, SIZE_WORDS[size])
    proportion = f"{shape} " if shape else ""
    adjective = MATERIALS[material].adjective
    part_list = join_phrases([_with_article(_part_phrase(p), p) for p in shown])
    descriptive = f"A {size_word} {proportion}{color} {noun} with {part_list}."
    inventory = "; ".join(f"{p.name}: {p.color} {p.material}" for p in shown)
    technical = (f"3D model of {article(color)} {color} {adjective} {noun}, {size_word} and toy-like. "
                 f"Parts - {inventory}.")
    materials = sorted({p.material for p in shown})
    scene = (f"A single {proportion}{noun} in {color}, made of {join_phrases(materials)}, "
             f"standing alone on a plain background, its {shown[0].name} {shown[0].color}.")
    result = [descriptive, technical, scene]
    if partner is not None:
        other, other_color = partner
        pair = f" Beside it stands {article(other_color)} {other_color} {CATEGORIES[other].noun}."
        result = [text.replace(" standing alone on a plain background,", "") + pair for text in result]
    return [_trim(text) for text in result]


def _trim(text: str) -> str:
    """Cut a caption to MAX_CAPTION_WORDS words at a clause boundary if it is longer."""
    if word_count(text) <= MAX_CAPTION_WORDS:
        return text
    cut = " ".join(text.split()[:MAX_CAPTION_WORDS])
    for mark in (";", ","):
        if mark in cut:
            cut = cut[: cut.rindex(mark)]
            break
    return cut.rstrip(",;") + "."
