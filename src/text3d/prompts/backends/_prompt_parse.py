"""Reading a prompt the way the embedded augmenter needs it: object phrases, each with its head
noun's category, colors, material, size and count, and words outside toyworld's vocabulary
grounded by :mod:`text3d.prompts.grounding` ("crimson yacht" → a red sailboat)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from text3d.data.toyworld.vocabulary import (
    CATEGORIES,
    COLOR_WORDS,
    MATERIALS,
    NUMBER_WORDS,
    SHAPE_WORDS,
    SIZE_WORDS,
    CategoryInfo,
)
from text3d.prompts.grounding import Grounding, ground_category, ground_color, ground_size, names_object
from text3d.prompts.wordnet import shared_wordnet

_TOKEN = re.compile(r"[^\s,;]+|[,;]")
_ARTICLES = frozenset({"a", "an", "the", "some"})
_SPLITTERS = frozenset({"and", ",", "&", "plus", ";"})
_SIDE_BY_SIDE = frozenset({"beside", "alongside"})  # split only when both sides name categories
_PREPOSITIONS = frozenset("with of on in at by for from under over near beside behind inside holding wearing "
                          "made that which".split())
_DIGIT_WORDS = {str(n): n for n in range(2, 21)}
# A last word that only says "a toy of some kind": "duck toy" is read as "toy duck", its head "duck".
_GENERIC_HEADS = frozenset({"toy", "toys", "figurine", "figurines", "model", "models"})


def singular(word: str) -> str:
    """A rough singular of an English noun ("wheels" → "wheel", "benches" → "bench")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "as")):
        return word[:-1]
    return word


def plural(noun: str) -> str:
    """A regular English plural of a noun phrase's last word ("sailboat" → "sailboats",
    "wine glass" → "wine glasses", "bunny" → "bunnies")."""
    head, _, last = noun.rpartition(" ")
    if last.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    elif last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        last = last[:-1] + "ies"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def article(phrase: str) -> str:
    """``a`` or ``an`` for ``phrase`` by the sound of its first word (a heuristic)."""
    first = phrase.split()[0].lower() if phrase.split() else ""
    if first.startswith(("hour", "honest", "honor", "heir")):
        return "an"
    if first.startswith(("uni", "use", "usu", "eu", "one", "once", "ur")):
        return "a"
    return "an" if first[:1] in "aeiou" else "a"


@functools.lru_cache(maxsize=1)
def lexicon() -> tuple[dict[tuple[str, ...], CategoryInfo], dict[str, str], dict[str, str], dict[str, int]]:
    phrases: dict[tuple[str, ...], CategoryInfo] = {}
    for info in CATEGORIES.values():
        for name in info.words:
            phrases.setdefault(tuple(singular(w) for w in name.lower().split()), info)
    colors = {w: color for color, ws in COLOR_WORDS.items() for w in ws}
    materials = {w: name for name, info in MATERIALS.items() for w in info.words}
    numbers = {w: n for n, w in NUMBER_WORDS.items() if n > 1}
    numbers.update(_DIGIT_WORDS)
    return phrases, colors, materials, numbers


@dataclass
class ObjectPhrase:
    """One object named in a prompt: its words as typed and what toyworld recognizes in them."""

    tokens: list[str]
    category: CategoryInfo | None = None
    noun_span: tuple[int, int] = (0, 0)
    colors: list[int] = field(default_factory=list)  # token indices of palette color words
    material: int | None = None  # token index of a material word
    count: int = 1
    simple: bool = True  # modifiers + head noun only
    grounded_colors: dict[int, str] = field(default_factory=dict)  # token index → palette color ("crimson")
    grounded: Grounding | None = None  # set when the category came from grounding ("yacht")
    grounded_sizes: dict[int, str] = field(default_factory=dict)  # token index → toyworld size ("giant" → "large")

    @property
    def plural(self) -> bool:
        if self.category is not None:
            end = self.noun_span[1]
            return is_plural(self.tokens[end - 1].lower())
        lowered = [t.lower() for t in self.tokens]
        cut = next((i for i, t in enumerate(lowered) if t in _PREPOSITIONS), len(lowered))
        head = lowered[cut - 1] if cut else ""  # "pair" in "pair of red shoes"
        return self.count > 1 or is_plural(head)

    def unnamed_noun(self) -> str:
        """The words of an uncategorized object's noun phrase that no attribute explains ("heli" in
        "average-sized heli in scarlet", "yacht club" in "car and yacht club": the words after a
        coordinator the split kept); "" when the object has a category."""
        if self.category is not None:
            return ""
        lowered = [t.lower() for t in self.tokens]
        cut = next((i for i, t in enumerate(lowered) if t in _PREPOSITIONS), len(lowered))
        start = max((i + 1 for i, t in enumerate(lowered[:cut]) if t in _SPLITTERS), default=0)  # "car and yacht club"
        explained = {*self.colors, *self.grounded_colors, *self.grounded_sizes, self.material}
        return " ".join(w for i, w in enumerate(lowered[start:cut], start)
                        if i not in explained and not is_attribute(w) and w not in _ARTICLES
                        and w not in _GENERIC_HEADS and w.replace("-", "").isalpha())


def is_plural(noun: str) -> bool:
    """Whether ``noun`` is an inflected plural: WordNet's morphy finds a dictionary form for it
    ("yachts", "glasses"; not "pharos", "cosmos" or "bus"); words WordNet lacks by the rough
    :func:`singular`."""
    wordnet = shared_wordnet()
    if wordnet is not None and wordnet.senses(noun, limit=1):
        return bool(wordnet.base_forms(noun))
    return singular(noun) != noun


def parse_object(tokens: list[str]) -> ObjectPhrase:
    """Recognize the head noun's category, colors, material and count in one object phrase."""
    phrases, colors, materials, numbers = lexicon()
    lowered = [t.lower() for t in tokens]
    if lowered and lowered[0] in _ARTICLES:
        tokens, lowered = tokens[1:], lowered[1:]
    described = _described_object(lowered)
    if described:  # "3d model of a red car": the red car
        tokens, lowered = tokens[described:], lowered[described:]
    obj = ObjectPhrase(list(tokens))
    cut = next((i for i, t in enumerate(lowered) if t in _PREPOSITIONS), len(lowered))
    obj.simple = cut == len(lowered)
    end = cut - 1 if cut >= 2 and lowered[cut - 1] in _GENERIC_HEADS and not is_attribute(lowered[cut - 2]) else cut
    head_words = [singular(t) for t in lowered[:end]]
    longest = max((len(p) for p in phrases), default=1)
    for size in range(min(longest, len(head_words)), 0, -1):  # the head noun ends the noun phrase
        candidate = tuple(head_words[end - size:end])
        if candidate in phrases:
            obj.category = phrases[candidate]
            obj.noun_span = (end - size, end)
            break
    of_phrase = _of_phrase_category(lowered, cut, phrases)
    if of_phrase is not None:
        obj.category, obj.noun_span = of_phrase
    for index, word in enumerate(lowered[:cut]):
        if word in colors:
            obj.colors.append(index)
        elif word in materials and obj.material is None and index < obj.noun_span[0]:
            obj.material = index
        elif word in numbers:
            obj.count = numbers[word]
    _ground_unknown_words(obj, lowered, cut, end)
    return obj


def _described_object(lowered: list[str]) -> int:
    """How many leading words only say "a depiction of": "3d model of a", "toy of the",
    "figurine of" (0 when the phrase does not start that way)."""
    start = 1 if lowered[:1] == ["3d"] else 0
    if len(lowered) > start + 2 and lowered[start] in _GENERIC_HEADS and lowered[start + 1] == "of":
        return start + 2 + (lowered[start + 2] in _ARTICLES)
    return 0


def _of_phrase_category(lowered: list[str], cut: int,
                        phrases: dict[tuple[str, ...], CategoryInfo]) -> tuple[CategoryInfo, tuple[int, int]] | None:
    """The category of an "X of Y" phrase that names one as a whole, with X's span: a training
    phrase itself ("stack of blocks"), or one as the compound "Y X" ("tower of blocks" is a block
    tower, "glass of wine" a wine glass). "cup of tea" is no "tea cup" in toyworld, so it stays
    a cup: the compound is only accepted when it is a training phrase."""
    if cut == 0 or cut >= len(lowered) - 1 or lowered[cut] != "of":
        return None
    stop = next((i for i in range(cut + 1, len(lowered)) if lowered[i] in _PREPOSITIONS), len(lowered))
    complement = [singular(w) for w in lowered[cut + 1:stop] if w not in _ARTICLES]
    if not complement or any(is_attribute(w) for w in complement):
        return None
    head = singular(lowered[cut - 1])
    for candidate in ((head, "of", *complement), (*complement, head)):
        if candidate in phrases:
            return phrases[candidate], (cut - 1, cut)
    return None


def _trailing_colors(lowered: list[str], cut: int) -> dict[int, str]:
    """Colors after a final "in" ("pharos in rose" → {2: "pink"}), or {} unless only colors follow it."""
    if cut >= len(lowered) - 1 or lowered[cut] != "in":
        return {}
    found = {i: ground_color(lowered[i]) for i in range(cut + 1, len(lowered))}
    return {i: g.name for i, g in found.items() if g is not None} if all(found.values()) else {}


def _ground_noun(words: list[str]) -> Grounding | None:
    """A category for a noun as typed when WordNet knows that spelling ("pharos"), else for its
    rough singular ("yachts" → "yacht")."""
    typed = " ".join(words)
    wordnet = shared_wordnet()
    if wordnet is not None and wordnet.senses(typed):
        return ground_category(typed)
    return ground_category(" ".join(singular(w) for w in words))


def _ground_head_noun(unknown: list[int], colors: dict[int, str], lowered: list[str],
                      cut: int) -> tuple[Grounding, tuple[int, int]] | None:
    """The category named by the head noun among the ``unknown`` words, with its token span.

    English puts the head last in a noun phrase, so the last word before ``cut`` is tried first:
    as the two-word compound ending there ("shelving unit"; not when it starts with a color word,
    unless WordNet lists it: "snowy maple" is a white maple, "olive tree" a compound) and alone,
    even when it could also name a color ("salmon"). When neither grounds, a last word WordNet knows as a noun outside
    toyworld ends the search (the object is none of toyworld's); otherwise (slang, typos) the
    earlier unknown non-color words are tried, right to left.

    The compound is read by MiniLM as a whole ("desert plant", "floor light"); one WordNet lists
    with no concrete sense names no object at all ("yacht club" is an organization, no sailboat)."""
    last = cut - 1
    wordnet = shared_wordnet()
    if last in unknown:
        alone = _ground_noun(lowered[last:cut])
        pair = _ground_noun(lowered[last - 1:cut]) if last - 1 in unknown else None
        listed = names_object(" ".join(lowered[last - 1:cut])) if last - 1 in unknown else None
        if listed is False:
            return None  # a compound WordNet knows as no object ("yacht club", an organization)
        if pair is not None and last - 1 in colors and not listed:
            pair = None  # "snowy maple" is a white maple; WordNet lists the real compounds ("olive tree")
        if pair is not None and (alone is None or pair.name != alone.name):
            return pair, (last - 1, cut)
        if alone is not None:
            return alone, (last, cut)
        if wordnet is not None and wordnet.senses(lowered[last]):
            return None
    for index in reversed([i for i in unknown if i not in colors and i != last]):
        found = _ground_noun(lowered[index:index + 1])
        if found is not None:
            return found, (index, index + 1)
    return None


def _ground_unknown_words(obj: ObjectPhrase, lowered: list[str], cut: int, end: int) -> None:
    """Ground unknown words to sizes ("gigantic"), palette colors ("crimson", "in rose") and, when no
    category matched, the head noun ending at ``end`` ("yacht", "shelving unit"; "sphere" in
    "sphere toy"); see :mod:`text3d.prompts.grounding`."""
    trailing = _trailing_colors(lowered, cut)
    if trailing:
        obj.simple = True
    span = range(*obj.noun_span) if obj.category is not None else range(0)
    phrases = lexicon()[0]
    unknown = [i for i in range(end) if i not in span and not is_attribute(lowered[i])
               and (singular(lowered[i]),) not in phrases and lowered[i].replace("-", "").isalpha()]
    sizes = {i: g.name for i in unknown if (g := ground_size(lowered[i])) is not None}
    unknown = [i for i in unknown if i not in sizes]
    colors = {i: g.name for i in unknown if (g := ground_color(lowered[i])) is not None}
    if obj.category is None:
        found = _ground_head_noun(unknown, colors, lowered, end)
        if found is not None:
            obj.grounded, obj.noun_span = found
            obj.category = CATEGORIES[obj.grounded.name]
    noun = range(*obj.noun_span) if obj.category is not None else range(end - 1, end)  # "a chocolate"
    obj.grounded_colors = {**{i: c for i, c in colors.items() if i not in noun}, **trailing}
    obj.grounded_sizes = {i: SIZE_WORDS[s][0] for i, s in sizes.items()}


def _attributes_first(tokens: list[str]) -> list[str]:
    """Tokens without commas; a last comma-separated segment of attribute words moves before the
    noun phrase it describes ("teapot, crimson, huge" → "crimson huge teapot")."""
    breaks = [i for i, t in enumerate(tokens) if t in (",", ";")]
    words = [t for t in tokens if t not in (",", ";")]
    if not breaks:
        return words
    body = tokens[:breaks[0]]
    tail = [t for t in tokens[breaks[0] + 1:] if t not in (",", ";")]
    if body and tail and all(_describes(t) for t in tail):
        return tail + body
    return words


def _describes(token: str) -> bool:
    """Whether ``token`` is a color, size, material or count word, known or grounded."""
    word = token.lower()
    return is_attribute(word) or ground_color(word) is not None or ground_size(word) is not None


def split_objects(prompt: str) -> list[ObjectPhrase]:
    """Split a prompt into object phrases at "and", commas, "next to" and "beside" when every
    piece names a category ("a car beside a tent"), or, joined by "and" or commas, names a concrete
    thing outside toyworld beside one that does ("a red telescope and a blue car"); otherwise one
    phrase ("a red and blue car", "a lamp next to the window", "a sailboat with a red sail, blue hull")."""
    tokens = _TOKEN.findall(prompt.strip().rstrip("."))
    reordered = _attributes_first(tokens)
    if reordered != [t for t in tokens if t not in (",", ";")]:  # "car, salmon": a salmon-colored car, not a fish
        return [parse_object(reordered)]
    pieces: list[list[str]] = [[]]
    skip, coordinated = False, True  # coordinated: split at "and" and commas only, never "beside"
    for index, token in enumerate(tokens):
        word = token.lower()
        if skip:
            skip = False
        elif word in _SPLITTERS or word in _SIDE_BY_SIDE:
            pieces.append([])
            coordinated = coordinated and word in _SPLITTERS
        elif word == "next" and index + 1 < len(tokens) and tokens[index + 1].lower() == "to":
            pieces.append([])  # "next to", as toyworld's grouped prompts join their two objects
            skip, coordinated = True, False
        else:
            pieces[-1].append(token)
    pieces = [p for p in pieces if p]
    if len(pieces) > 1:
        parsed = [parse_object(p) for p in pieces]
        named = all(p.category is not None for p in parsed) or (coordinated and _separate_objects(parsed))
        if named and not _lists_parts(parsed):
            return parsed
    return [parse_object(reordered)]


def _separate_objects(parsed: list[ObjectPhrase]) -> bool:
    """Whether pieces of which only some name a category still name separate objects: each piece
    is a plain noun phrase and each uncategorized one ends in a noun WordNet knows as a concrete
    thing ("a red telescope and a blue car"; not "a red and blue car", nor "a chair with a cushion
    and armrests", whose first piece is no plain noun phrase)."""
    if not any(p.category is not None for p in parsed) or not all(p.simple and p.tokens for p in parsed):
        return False
    return all(p.category is not None or _names_thing(p.tokens) for p in parsed)


def _names_thing(tokens: list[str]) -> bool:
    """Whether a noun phrase's head names a concrete thing: its last two words when WordNet
    lists them ("yacht club" does not), else its last word, unless that is a color or other
    attribute word ("red" is also a red wine to WordNet)."""
    compound = names_object(" ".join(tokens[-2:])) if len(tokens) > 1 else None
    if compound is not None:
        return compound
    return not is_attribute(tokens[-1]) and bool(names_object(tokens[-1]))


def is_attribute(token: str) -> bool:
    _, colors, materials, numbers = lexicon()
    word = token.lower()
    return (word in colors or word in materials or word in numbers
            or any(word in ws for ws in SIZE_WORDS.values()) or any(word in ws for ws in SHAPE_WORDS.values()))


def _lists_parts(parsed: list[ObjectPhrase]) -> bool:
    """Whether a piece after the first ends in a part of an earlier piece's category ("blue hull"
    after "sailboat with red sail"), or grounds to the category of an earlier piece that already
    describes its object ("armrests" after "a chair with a cushion": a part's word grounds to its
    whole): then the pieces list parts of one object."""
    for index, piece in enumerate(parsed[1:], start=1):
        head = singular(piece.tokens[-1].lower()) if piece.tokens else ""
        parts = {singular(part.lower()) for earlier in parsed[:index] if earlier.category is not None
                 for part in earlier.category.parts}
        described = {earlier.category.name for earlier in parsed[:index]
                     if earlier.category is not None and not earlier.simple}
        if head in parts or (piece.grounded is not None and piece.grounded.name in described):
            return True
    return False
