"""Noun phrases: the indefinite article, and lists of phrases joined the English way."""

from __future__ import annotations

_AN_SILENT_H = ("hour", "honest", "honor", "heir")
_A_BEFORE_VOWEL_LETTER = ("uni", "use", "usu", "eu", "one", "once", "ur")


def article(phrase: str) -> str:
    """``a`` or ``an`` for ``phrase`` by the sound of its first word (a spelling heuristic:
    "an hour", "a unicorn", "an orange")."""
    first = phrase.split()[0].lower() if phrase.split() else ""
    if first.startswith(_AN_SILENT_H):
        return "an"
    if first.startswith(_A_BEFORE_VOWEL_LETTER):
        return "a"
    return "an" if first[:1] in "aeiou" else "a"


def with_article(phrase: str) -> str:
    """``phrase`` after its indefinite article ("an orange cab")."""
    return f"{article(phrase)} {phrase}"


def join_phrases(items: list[str] | tuple[str, ...]) -> str:
    """"a", "a and b", "a, b and c"; "" for no items."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
