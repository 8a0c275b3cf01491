"""What a closed-vocabulary generator builds for an object outside its vocabulary.

The embedded augmenter grounds a word outside toyworld only when the evidence is strong
(:mod:`text3d.prompts.grounding`), and otherwise keeps it as typed ("A medium red heli with
accurate proportions, …"): an open-vocabulary generator such as TRELLIS knows what a heli
is. The embedded generator knows only toyworld's categories, so for it such a word is noise
in the condition, and it samples whatever those tokens happen to resemble. Like the
procedural backend, it builds the nearest category instead and says so: the uncategorized
object's noun ("heli") is replaced in the conditioning text by the noun of the category
MiniLM puts nearest ("helicopter"), however low the similarity.

Measured with ``text3d study generator --n 200`` (seed 1,000,000): see the generator's model
card. On the word lists of ``tests/prompts/test_grounding.py`` the nearest category is right for
5 of the 12 development words that ground to nothing and 8 of the 12 held-out paraphrase nouns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from text3d.data.toyworld.vocabulary import CATEGORIES
from text3d.prompts.embedded import read_prompt
from text3d.prompts.grounding import Grounding, category_by_word_similarity
from text3d.text import plural


@dataclass
class ClosedVocabularyText:
    """The conditioning text with every unnamed object replaced by its nearest category."""

    text: str
    substitutions: list[tuple[str, Grounding]] = field(default_factory=list)  # (typed noun, nearest category)
    category: str | None = None  # the one category the prompt asks for (None: several objects or none)

    @property
    def warnings(self) -> list[str]:
        return [f"no toyworld category for {noun!r}; generating the nearest, {CATEGORIES[g.name].noun!r} "
                f"(MiniLM cosine {g.score:.2f})" for noun, g in self.substitutions]


def _word_pattern(words: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(words)}(?![\w-])", re.IGNORECASE)


def _replace_word(text: str, noun: str, replacement: str) -> tuple[str, int]:
    return _word_pattern(noun).subn(replacement, text)


def nearest_known_text(prompt: str, text: str) -> ClosedVocabularyText:
    """``text`` (the caption of ``prompt``, or the prompt itself) with the words of each object of
    ``prompt`` that names no toyworld category (:meth:`~text3d.prompts.embedded.ObjectReading.unnamed_noun`) replaced by
    the nearest category's noun
    (plural when typed plural). When the caption does not contain the typed noun (an LLM
    rephrased it), the prompt with the replacement is returned instead. ``category`` is the
    one category the prompt then asks for, when it names a single object."""

    result = ClosedVocabularyText(text)
    rewritten_prompt = prompt
    found_everywhere = True
    objects = read_prompt(prompt).objects
    categories = [obj.category.name if obj.category is not None else None for obj in objects]
    for index, obj in enumerate(objects):
        noun = obj.unnamed_noun()
        if not noun:
            continue
        nearest = category_by_word_similarity(noun)
        name = CATEGORIES[nearest.name].noun
        name = plural(name) if obj.plural else name
        # the whole phrase where it stands as typed ("yacht club"), else its head, which English
        # puts last ("telescope" in "vintage red brass telescope", whose "red" the caption keeps)
        typed = noun if _word_pattern(noun).search(rewritten_prompt) else noun.split()[-1]
        rewritten_prompt, in_prompt = _replace_word(rewritten_prompt, typed, name)
        if not in_prompt:
            continue
        result.text, in_text = _replace_word(result.text, typed, name)
        found_everywhere = found_everywhere and in_text > 0
        result.substitutions.append((typed, nearest))
        categories[index] = nearest.name
    if result.substitutions and not found_everywhere:
        result.text = rewritten_prompt
    result.category = categories[0] if len(categories) == 1 else None
    return result

