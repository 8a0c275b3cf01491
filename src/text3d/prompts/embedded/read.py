"""Reading a prompt: normalize → split into objects → head noun → attributes → ground.

Each stage is a named pass from one immutable value to the next (:mod:`.head`,
:mod:`.ground`); :func:`read_prompt` runs them. Splitting rules:

* a last comma-separated segment of attribute words (known or grounded colors and sizes)
  describes the noun phrase before it and moves in front of it ("car, salmon" is a
  salmon-colored car, "motorcar, crimson, gigantic" a crimson gigantic motorcar);
* otherwise the prompt splits at coordinators and "next to"/"beside" when every piece names a
  category ("a car beside a tent"), or, joined by coordinators only, when the pieces are plain
  noun phrases of which the uncategorized ones name concrete things ("a red telescope and a
  blue car"; not "a red and blue car");
* pieces after the first that name a part of an earlier piece's category, or ground to the
  category of an earlier piece that already describes its object, list parts of that object
  ("a sailboat with a red sail, blue hull"; "a chair with a cushion and armrests").
"""

from __future__ import annotations

from collections.abc import Callable

from text3d.prompts.embedded.ground import ground_unknown_words, read_number
from text3d.prompts.embedded.head import drop_determiners, find_head, read_attributes
from text3d.prompts.embedded.lexicon import SIDE_BY_SIDE, SPLITTERS, is_attribute
from text3d.prompts.embedded.reading import ObjectReading, Reading
from text3d.prompts.grounding import ground_color, ground_size, names_object
from text3d.text import prompt_tokens, singular

ObjectPass = Callable[[ObjectReading], ObjectReading]
OBJECT_PASSES: tuple[ObjectPass, ...] = (find_head, read_attributes, ground_unknown_words, read_number)
"""The passes that read one object phrase, in order, after :func:`~.head.drop_determiners`."""
_SEGMENT_BREAKS = (",", ";")


def normalize(prompt: str) -> str:
    """The prompt with its whitespace collapsed (the text the caption quotes)."""
    return " ".join(prompt.split())


def read_object(tokens: tuple[str, ...]) -> ObjectReading:
    """One object phrase read by :data:`OBJECT_PASSES`."""
    obj = drop_determiners(tokens)
    for step in OBJECT_PASSES:
        obj = step(obj)
    return obj


def _attributes_first(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Tokens without commas; a last comma-separated segment of attribute words moves before the
    noun phrase it describes ("teapot, crimson, huge" → "crimson huge teapot")."""
    breaks = [i for i, t in enumerate(tokens) if t in _SEGMENT_BREAKS]
    words = tuple(t for t in tokens if t not in _SEGMENT_BREAKS)
    if not breaks:
        return words
    body = tokens[:breaks[0]]
    tail = tuple(t for t in tokens[breaks[0] + 1:] if t not in _SEGMENT_BREAKS)
    if body and tail and all(_describes(t) for t in tail):
        return tail + body
    return words


def _describes(token: str) -> bool:
    """Whether ``token`` is a color, size, material or count word, known or grounded."""
    word = token.lower()
    return is_attribute(word) or ground_color(word) is not None or ground_size(word) is not None


def _pieces(tokens: tuple[str, ...]) -> tuple[list[tuple[str, ...]], bool]:
    """The token runs between coordinators, "beside"/"alongside" and "next to", and whether only
    coordinators split them."""
    pieces: list[list[str]] = [[]]
    skip, coordinated = False, True
    for index, token in enumerate(tokens):
        word = token.lower()
        if skip:
            skip = False
        elif word in SPLITTERS or word in SIDE_BY_SIDE:
            pieces.append([])
            coordinated = coordinated and word in SPLITTERS
        elif word == "next" and index + 1 < len(tokens) and tokens[index + 1].lower() == "to":
            pieces.append([])  # "next to", as toyworld's grouped prompts join their two objects
            skip, coordinated = True, False
        else:
            pieces[-1].append(token)
    return [tuple(p) for p in pieces if p], coordinated


def split_objects(text: str) -> tuple[ObjectReading, ...]:
    """The object phrases of a normalized prompt, each read (rules in the module docstring)."""
    tokens = tuple(prompt_tokens(text.strip().rstrip(".")))
    reordered = _attributes_first(tokens)
    if reordered != tuple(t for t in tokens if t not in _SEGMENT_BREAKS):
        return (read_object(reordered),)
    pieces, coordinated = _pieces(tokens)
    if len(pieces) > 1:
        parsed = tuple(read_object(p) for p in pieces)
        named = all(p.category is not None for p in parsed) or (coordinated and _separate_objects(parsed))
        if named and not _lists_parts(parsed):
            return parsed
    return (read_object(reordered),)


def _separate_objects(parsed: tuple[ObjectReading, ...]) -> bool:
    """Whether pieces of which only some name a category still name separate objects: each piece
    is a plain noun phrase and each uncategorized one ends in a noun naming a concrete thing."""
    if not any(p.category is not None for p in parsed) or not all(p.simple and p.tokens for p in parsed):
        return False
    return all(p.category is not None or _names_thing(p.tokens) for p in parsed)


def _names_thing(tokens: tuple[str, ...]) -> bool:
    """Whether a noun phrase's head names a concrete thing: its last two words when WordNet
    lists them ("yacht club" does not), else its last word, unless that is a color or other
    attribute word ("red" is also a red wine to WordNet)."""
    compound = names_object(" ".join(tokens[-2:])) if len(tokens) > 1 else None
    if compound is not None:
        return compound
    return not is_attribute(tokens[-1]) and bool(names_object(tokens[-1]))


def _lists_parts(parsed: tuple[ObjectReading, ...]) -> bool:
    """Whether a piece after the first names a part of an earlier piece's category, or grounds to
    the category of an earlier piece that already describes its object (a part's word grounds
    to its whole): then the pieces list parts of one object."""
    for index, piece in enumerate(parsed[1:], start=1):
        head = singular(piece.tokens[-1].lower()) if piece.tokens else ""
        earlier = [(p.category, p.simple) for p in parsed[:index] if p.category is not None]
        parts = {singular(part.lower()) for category, _ in earlier for part in category.parts}
        described = {category.name for category, simple in earlier if not simple}
        if head in parts or (piece.grounded is not None and piece.grounded.name in described):
            return True
    return False


def read_prompt(prompt: str) -> Reading:
    """``prompt`` read into its objects: normalize, split, then each object's passes."""
    text = normalize(prompt)
    return Reading(prompt, text, split_objects(text))
