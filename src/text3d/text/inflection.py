"""English inflection, stated once: plural and singular of nouns, the lemma forms a caption
may use for a prompt word, and WordNet's morphy detachment rules.

Every rule is a :class:`SuffixRule` (``suffix`` → ``ending``) in a declared table; the tables
differ in purpose, not in how a rule applies:

* :data:`SINGULAR_RULES` — the first matching rule gives a rough singular ("benches" → "bench");
* :data:`MORPHY_RULES` — every matching rule gives a candidate dictionary form, as WordNet's
  own "morphy" tries them (the caller keeps those WordNet lists);
* :data:`LEMMA_RULES` — every matching rule gives a plausible lemma of a word a caption keeps
  (inflection, plus derivations that keep the lemma: "wooden" → "wood", "stony" → "stone").
"""

from __future__ import annotations

from dataclasses import dataclass

_VOWELS = frozenset("aeiou")


@dataclass(frozen=True)
class SuffixRule:
    """Replace ``suffix`` by ``ending`` in a word of at least ``min_length`` letters that does not
    end in any of ``unless``."""

    suffix: str
    ending: str = ""
    min_length: int = 0
    unless: tuple[str, ...] = ()

    def apply(self, word: str) -> str | None:
        """The word with the rule applied, or ``None`` when the rule does not match it."""
        if len(word) < self.min_length or not word.endswith(self.suffix) or word.endswith(self.unless):
            return None
        return word[: len(word) - len(self.suffix)] + self.ending


SINGULAR_RULES: tuple[SuffixRule, ...] = (
    SuffixRule("ies", "y", 5),
    *(SuffixRule(s + "es", s, 5) for s in ("ch", "sh", "x", "ss", "z")),
    SuffixRule("s", "", 4, unless=("ss", "us", "is", "as")),
)
"""First match wins: "ponies" → "pony", "benches" → "bench", "wheels" → "wheel"; "glass",
"cactus", "iris", "canvas" stay."""

MORPHY_RULES: dict[str, tuple[SuffixRule, ...]] = {
    "noun": tuple(SuffixRule(s, e, len(s) + 2) for s, e in (
        ("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
        ("ies", "y"))),
    "adj": tuple(SuffixRule(s, e, len(s) + 2) for s, e in (("er", ""), ("est", ""), ("er", "e"), ("est", "e"))),
}
"""WordNet 3.0's morphy detachment rules for nouns and adjectives, in morphy's order."""

_DERIVATION_SUFFIXES = ("ed", "ing", "er", "est", "en")
LEMMA_RULES: tuple[SuffixRule, ...] = (
    SuffixRule("ies", "y", 4),
    *(SuffixRule(s + "es", s, 4) for s in "sxzh"),
    SuffixRule("s", "", 4, unless=("ss", "us", "is")),
    *(rule for suffix in _DERIVATION_SUFFIXES for rule in (
        SuffixRule(suffix, "", len(suffix) + 3), SuffixRule(suffix, "e", len(suffix) + 3))),
    SuffixRule("ic", "", 5, unless=("tic",)),  # "volcanic" → "volcan", "metallic" → "metall"
    SuffixRule("y", "", 5),  # glassy → glass, rocky → rock
    SuffixRule("y", "e", 5),  # stony → stone
)
"""Lemma candidates a caption may keep for a prompt word (all matches count)."""


def singular(word: str) -> str:
    """A rough singular of an English noun by :data:`SINGULAR_RULES` ("wheels" → "wheel",
    "benches" → "bench"); the word itself when no rule matches."""
    return next((found for rule in SINGULAR_RULES if (found := rule.apply(word)) is not None), word)


def plural(noun: str) -> str:
    """A regular English plural of a noun phrase's last word ("sailboat" → "sailboats",
    "wine glass" → "wine glasses", "bunny" → "bunnies")."""
    head, _, last = noun.rpartition(" ")
    if last.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    elif last.endswith("y") and last[-2:-1] not in (*_VOWELS, ""):
        last = last[:-1] + "ies"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def morphy_candidates(word: str, pos: str) -> tuple[str, ...]:
    """Forms of ``word`` that WordNet's morphy rules for ``pos`` ("noun" or "adj") detach, in rule
    order ("cubes" → "cube", "firemen" → "fireman"); whether WordNet lists them is the caller's."""
    return tuple(found for rule in MORPHY_RULES[pos] if (found := rule.apply(word)) is not None)


def lemma_forms(word: str) -> set[str]:
    """The word and its plausible lemmas of at least 3 letters by :data:`LEMMA_RULES`; a doubled
    final consonant or an ``i`` for ``y`` before a derivation suffix is undone too ("stopped" →
    "stop", "bigger" → "big", "tidied" → "tidy")."""
    forms = {word}
    for rule in LEMMA_RULES:
        stem = rule.apply(word)
        if stem is None:
            continue
        forms.add(stem)
        if rule.suffix in _DERIVATION_SUFFIXES and not rule.ending:
            if len(stem) >= 2 and stem[-1] == stem[-2]:
                forms.add(stem[:-1])
            if stem.endswith("i"):
                forms.add(stem[:-1] + "y")
    return {form for form in forms if form == word or len(form) >= 3}
