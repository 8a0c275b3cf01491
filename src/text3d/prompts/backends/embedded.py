"""``embedded``: the offline default augmenter — no network, no model, deterministic per seed.

It writes the object-centric captions a 3D-asset caption needs (shape, parts, colors,
materials; one object, plain background) from toyworld's vocabulary:

* the prompt's head noun is matched against toyworld's category names and training synonyms,
  longest match first ("teddy bear" before "bear"), plurals included;
* words outside that vocabulary are grounded the way an LLM would read them, from general
  knowledge only — WordNet, the XKCD color names and MiniLM similarity
  (:mod:`text3d.prompts.grounding`), never toyworld's held-out word lists: "crimson yacht"
  → "A crimson yacht (sailboat) with a red … hull …"; the typed words stay in the caption;
* a matched category contributes its named parts, each with a plausible palette color,
  material and shape word (``_part_looks``); the user's colors and material go to the main
  part, and every word the user typed stays in the caption;
* a prompt outside the vocabulary ("vintage brass telescope") keeps its words as typed inside
  generic object-centric phrasing.

Choices (template, part colors, shape words) come from ``random.Random`` seeded with the
seed, the attempt and the prompt, so a seed always gives the same caption.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass, field

from text3d.data.toyworld.vocabulary import (
    CATEGORIES,
    COLOR_NAMES,
    COLOR_WORDS,
    MATERIALS,
    NUMBER_WORDS,
    SHAPE_WORDS,
    SIZE_WORDS,
    CategoryInfo,
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
from text3d.prompts.base import AugmentRequest, Completion, augmenters
from text3d.prompts.clip_tokens import CLIP_CONTEXT_LENGTH, clip_token_count
from text3d.prompts.grounding import Grounding, ground_category, ground_color
from text3d.prompts.rules import word_count

MODEL_VERSION = "toyworld-v2"  # v2: grounds words outside the vocabulary (grounding.py)
MAX_PARTS = 3  # parts named in a single-object caption (main part first)

_TOKEN = re.compile(r"[^\s,;]+|[,;]")
_ARTICLES = frozenset({"a", "an", "the", "some"})
_SPLITTERS = frozenset({"and", ",", "&", "plus", ";"})
_SIDE_BY_SIDE = frozenset({"beside", "alongside"})  # split only when both sides name categories
_PREPOSITIONS = frozenset("with of on in at by for from under over near beside behind inside holding wearing "
                          "made that which".split())
_DIGIT_WORDS = {str(n): n for n in range(2, 21)}


def singular(word: str) -> str:
    """A rough singular of an English noun ("wheels" → "wheel", "benches" → "bench")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "as")):
        return word[:-1]
    return word


def article(phrase: str) -> str:
    """``a`` or ``an`` for ``phrase`` by the sound of its first word (a heuristic)."""
    first = phrase.split()[0].lower() if phrase.split() else ""
    if first.startswith(("hour", "honest", "honor", "heir")):
        return "an"
    if first.startswith(("uni", "use", "usu", "eu", "one", "once", "ur")):
        return "a"
    return "an" if first[:1] in "aeiou" else "a"


@functools.lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[tuple[str, ...], CategoryInfo], dict[str, str], dict[str, str], dict[str, int]]:
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

    @property
    def plural(self) -> bool:
        if self.category is not None:
            end = self.noun_span[1]
            last = self.tokens[end - 1].lower()
            return singular(last) != last
        lowered = [t.lower() for t in self.tokens]
        cut = next((i for i, t in enumerate(lowered) if t in _PREPOSITIONS), len(lowered))
        head = lowered[cut - 1] if cut else ""  # "pair" in "pair of red shoes"
        return self.count > 1 or singular(head) != head


def parse_object(tokens: list[str]) -> ObjectPhrase:
    """Recognize the head noun's category, colors, material and count in one object phrase."""
    phrases, colors, materials, numbers = _lexicon()
    lowered = [t.lower() for t in tokens]
    if lowered and lowered[0] in _ARTICLES:
        tokens, lowered = tokens[1:], lowered[1:]
    obj = ObjectPhrase(list(tokens))
    cut = next((i for i, t in enumerate(lowered) if t in _PREPOSITIONS), len(lowered))
    obj.simple = cut == len(lowered)
    head_words = [singular(t) for t in lowered[:cut]]
    longest = max((len(p) for p in phrases), default=1)
    for size in range(min(longest, len(head_words)), 0, -1):  # the head noun ends the noun phrase
        candidate = tuple(head_words[cut - size:cut])
        if candidate in phrases:
            obj.category = phrases[candidate]
            obj.noun_span = (cut - size, cut)
            break
    for index, word in enumerate(lowered[:cut]):
        if word in colors:
            obj.colors.append(index)
        elif word in materials and obj.material is None and index < obj.noun_span[0]:
            obj.material = index
        elif word in numbers:
            obj.count = numbers[word]
    _ground_unknown_words(obj, lowered, cut)
    return obj


def _trailing_colors(lowered: list[str], cut: int) -> dict[int, str]:
    """Colors after a final "in" ("pharos in rose" → {2: "pink"}), or {} unless only colors follow it."""
    if cut >= len(lowered) - 1 or lowered[cut] != "in":
        return {}
    found = {i: ground_color(lowered[i]) for i in range(cut + 1, len(lowered))}
    return {i: g.name for i, g in found.items() if g is not None} if all(found.values()) else {}


def _ground_head_noun(nouns: list[int], lowered: list[str]) -> tuple[Grounding, tuple[int, int]] | None:
    """The last of the unknown words ``nouns`` (or two-word phrase ending there) that grounds to a
    category, with its token span."""
    for last in reversed(nouns):
        spans = ([(last - 1, last + 1)] if last - 1 in nouns else []) + [(last, last + 1)]
        for start, stop in spans:
            grounding = ground_category(" ".join(singular(w) for w in lowered[start:stop]))
            if grounding is not None:
                return grounding, (start, stop)
    return None


def _ground_unknown_words(obj: ObjectPhrase, lowered: list[str], cut: int) -> None:
    """Ground unknown words to palette colors ("crimson", "in rose", ", golden") and, when no
    category matched, the head noun ("yacht", "shelving unit"); see :mod:`text3d.prompts.grounding`."""
    trailing = _trailing_colors(lowered, cut)
    if trailing:
        obj.simple = True
    span = range(*obj.noun_span) if obj.category is not None else range(0)
    phrases = _lexicon()[0]
    unknown = [i for i in range(cut) if i not in span and not _is_attribute(lowered[i])
               and (singular(lowered[i]),) not in phrases and lowered[i].replace("-", "").isalpha()]
    colors = {i: g.name for i in unknown if (g := ground_color(lowered[i])) is not None}
    if obj.category is None:
        nouns = [i for i in unknown if i not in colors] or unknown[-1:]  # "a rose": the color word is the noun
        found = _ground_head_noun(nouns, lowered)
        if found is None:
            return
        obj.grounded, obj.noun_span = found
        obj.category = CATEGORIES[obj.grounded.name]
    noun = range(*obj.noun_span)
    obj.grounded_colors = {**{i: c for i, c in colors.items() if i not in noun}, **trailing}


def split_objects(prompt: str) -> list[ObjectPhrase]:
    """Split a prompt into object phrases at "and", commas, "next to" and "beside" when every
    piece names a category ("a cat beside a dog"); otherwise one phrase ("a lamp beside the bed" stays whole
    when "bed" is no category)."""
    tokens = _TOKEN.findall(prompt.strip().rstrip("."))
    pieces: list[list[str]] = [[]]
    skip = False
    for index, token in enumerate(tokens):
        word = token.lower()
        if skip:
            skip = False
        elif word in _SPLITTERS or word in _SIDE_BY_SIDE:
            pieces.append([])
        elif word == "next" and index + 1 < len(tokens) and tokens[index + 1].lower() == "to":
            pieces.append([])  # "next to", as toyworld's grouped prompts join their two objects
            skip = True
        else:
            pieces[-1].append(token)
    pieces = [p for p in pieces if p]
    if len(pieces) > 1:
        parsed = [parse_object(p) for p in pieces]
        if all(p.category is not None for p in parsed):
            return parsed
    return [parse_object([t for t in tokens if t not in (",", ";")])]


def _is_attribute(token: str) -> bool:
    _, colors, materials, numbers = _lexicon()
    word = token.lower()
    return (word in colors or word in materials or word in numbers
            or any(word in ws for ws in SIZE_WORDS.values()) or any(word in ws for ws in SHAPE_WORDS.values()))


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
        elif uniform and main is not None:
            color = main.color
        elif index == 0 and info.name in MAIN_COLORS:
            color = rng.choice(MAIN_COLORS[info.name])
        else:
            color = _choose(rng, look.colors, COLOR_NAMES)
    if index == 0 and user_material:
        material = user_material
    elif uniform and main is not None:
        material = main.material
    elif info.name in CATEGORY_MATERIALS and part not in OWN_MATERIAL_PARTS:
        material = rng.choice(CATEGORY_MATERIALS[info.name])
    else:
        material = _choose(rng, look.materials, GROUP_MATERIALS.get(info.group, ("",)))
    return _PartChoice(color, material)


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
    if obj.category is None or not obj.simple:
        return " ".join(obj.tokens)
    moved = set(obj.colors) | ({obj.material} if obj.material is not None else set())
    kept = []
    for index, token in enumerate(obj.tokens):
        between_moved = (index - 1 in moved or index == 0) and index + 1 in moved
        if index in moved or (token.lower() in ("and", "&", "or") and between_moved):
            continue
        kept.append(token)
    if obj.grounded is not None or obj.grounded_colors:  # toyworld's words; the typed ones follow the caption
        kept = [t for i, t in enumerate(obj.tokens) if i not in moved and _is_attribute(t)] + [obj.category.noun]
    return " ".join(kept)


def _with_article(obj: ObjectPhrase, head: str) -> str:
    return head if (obj.plural or obj.count > 1) else f"{article(head)} {head}"


def _parts(obj: ObjectPhrase, rng: random.Random, limit: int) -> list[str]:
    """Phrases for the category's parts, main part first, at most ``limit`` of them."""
    info = obj.category
    assert info is not None
    _, _, materials, _ = _lexicon()
    typed = {i: obj.tokens[i] for i in obj.colors}  # as typed: "grey" stays "grey"
    typed.update(obj.grounded_colors)  # "crimson" → "red" (the typed word stays in the head)
    user_colors = [typed[i] for i in sorted(typed)]
    user_material = materials[obj.tokens[obj.material].lower()] if obj.material is not None else None
    main_part = MAIN_PART.get(info.name, info.parts[0])
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
        head = " ".join(obj.tokens)
        if all(_is_attribute(t) for t in obj.tokens):  # "red": no noun to describe
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
            if limit:
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
    if short and any(o.grounded is not None or o.grounded_colors for o in objects):
        budget = max_words - word_count(typed) - 1
        text = _single_caption(objects[0], rng, budget) if len(objects) == 1 else _multi_caption(objects, rng, budget)
        text = f"{text[:-1]} ({typed})."  # the typed words, kept by the caption rules, after toyworld's
        if _fits(text, max_words):
            return text
    for obj in objects:
        obj.grounded, obj.grounded_colors = None, {}  # a long prompt: its typed words stay in the head
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
