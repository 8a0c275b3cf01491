"""The caption rules of the LLM-augmentation study (Kim et al., *Balancing Fidelity and
Efficiency …*): pure functions, no I/O.

An augmented caption is one caption of at most 40 words that fits CLIP's 77-token window,
keeps the user's content words and carries no reasoning, lists, quotes, headings, labels or
chatter. :func:`apply_rules` turns raw LLM output into such a caption where it can:

1. :func:`strip_reasoning` removes ``<think>…</think>`` blocks (also unclosed or with only
   the closing tag left), and "Thinking… / …done thinking." preambles;
2. :func:`clean_output` removes headings, labels ("Caption:"), chatter ("Sure! Here is…",
   "Let me know…"), markdown, quotes and word-count notes, picks the first of several
   alternative captions and joins a list of short features into one phrase;
3. :func:`fit_limits` trims a ramble at the last sentence (or clause) boundary that fits
   the word and CLIP-token limits — recorded as a repair, never silent;
4. :func:`check_caption` lists what is still wrong: ``empty``, ``refusal``, ``language``,
   ``verse`` (hard: the text is no caption at all), ``too_many_words``,
   ``too_many_clip_tokens`` and ``missing_words`` (soft: a caption, but off the rules).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from text3d.prompts.clip_tokens import CLIP_CONTEXT_LENGTH, clip_token_count
from text3d.prompts.words import content_words, missing_content_words
from text3d.text import MAX_CAPTION_WORDS, MAX_PROMPT_WORDS, word_count, words

RULES_VERSION = 2  # 2: answers that repeat the instructions are refused (echo)
"""Bump when the rules change what they accept; it is part of the cache key."""

HARD_VIOLATIONS = frozenset({"empty", "refusal", "language", "verse", "echo"})
ECHO_WORDS = 6
"""A caption that repeats this many consecutive words of the instructions it was sent (and not of
the user's prompt) copied them: small models answer a retry by repeating it."""

_FLAGS = re.IGNORECASE | re.DOTALL
_REASONING_TAGS = r"think|thinking|thought|reasoning|reflection|analysis"
_CLOSED_BLOCK = re.compile(rf"<\s*({_REASONING_TAGS})\b[^>]*>.*?<\s*/\s*\1\s*>", _FLAGS)
_CLOSING_TAG = re.compile(rf"<\s*/\s*(?:{_REASONING_TAGS})\s*>", re.IGNORECASE)
_OPENING_TAG = re.compile(rf"<\s*(?:{_REASONING_TAGS})\b[^>]*>", re.IGNORECASE)
_HARMONY_FINAL = re.compile(r"<\|channel\|>\s*final\s*<\|message\|>|\A\s*analysis.*?assistantfinal",
                            re.IGNORECASE | re.DOTALL)  # gpt-oss: reasoning channel, then the final one
_SPECIAL_TOKEN = re.compile(r"<\|[a-z_]+\|>", re.IGNORECASE)
_THINKING_PREAMBLE = re.compile(r"\A\s*thinking\s*(?:\.\.\.|…)", re.IGNORECASE)
_DONE_THINKING = re.compile(r"(?:\.\.\.|…)\s*done thinking\.?", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

_CODE_FENCE = re.compile(r"^\s*```.*$", re.MULTILINE)
_HEADING = re.compile(r"^\s*#{1,6}\s")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)([^*_]+)\1\s*:?\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•+▪◦–]|\d{1,2}[.)]|[a-h][.)])\s+(.*)$")
_LABEL = re.compile(
    r"^\s*(?:\*\*|__)?\s*(?:final\s+|enhanced\s+|augmented\s+|detailed\s+|improved\s+|expanded\s+|short\s+|"
    r"3d\s+|new\s+|rewritten\s+)*(?:caption|description|prompt|output|answer|result|response|text)"
    r"(?:\s*#?\d+)?\s*(?:\*\*|__)?\s*(?:[:：]|[–—-](?=\s))\s*(?:\*\*|__)?\s*", re.IGNORECASE)
_REASONING_LINE = re.compile(r"^\s*(?:\*\*)?(?:thought|thoughts|reasoning|analysis|explanation|notes?)"
                             r"(?:\*\*)?\s*:", re.IGNORECASE)
_INTRO = re.compile(
    r"^\s*(?:(?:sure|certainly|of course|okay|ok|absolutely|great|alright)\b[!,.]?\s*)?"
    r"(?:here(?:'s| is| are)|below is)\b[^:\n]{0,100}:\s*", re.IGNORECASE)
_CHATTER = re.compile(
    r"^\s*(?:(?:sure|certainly|of course|okay|ok|absolutely|alright|great)\s*[!,.]|"
    r"(?:i hope|hope this|let me know|feel free|note:|this caption|this description|word count|i've|"
    r"i have|i kept|i added|i made|i included|would you like|if you (?:need|want|would|'d|like)|"
    r"the caption (?:is|has|keeps|uses|stays|contains|describes|focuses|emphasi[sz]es))\b)", re.IGNORECASE)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
_WORD_COUNT_NOTE = re.compile(r"\(\s*(?:~?\s*\d+\s*words?|word count[^)]*|approx[^)]*words?[^)]*)\s*\)",
                              re.IGNORECASE)
_MARKDOWN = re.compile(r"\*\*|__|\*|`|~~|(?<!\w)_|_(?!\w)")
_QUOTES = re.compile(r"[\"“”„«»]|(?<!\w)['‘’]|['‘’](?!\w)")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_REFUSAL = re.compile(
    r"^\s*(?:i(?:'m| am) sorry|sorry\b|i can(?:not|'t| not)\b|i(?:'m| am) (?:unable|not able)|i won'?t\b|"
    r"i will not\b|as an ai\b|i must decline|unfortunately,? i\b|i(?:'m| am) afraid i)", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_DANGLING = frozenset("a an the and or with of in on to for its their by as while which featuring".split())
_CLAUSE_STARTERS = frozenset("and with while which featuring that where".split())

_ENGLISH_FUNCTION = frozenset("a an the with and of on in its is for to".split())
_FOREIGN_FUNCTION = frozenset(
    "le la les un une des et avec du est el los las con y del una der die das und mit ein eine ist "
    "il di che della gli ed um uma com os não sur dans pour".split())

_INJECTION = (
    re.compile(r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:instructions?|rules?|prompts?|"
               r"above|previous|system|guidelines?)\b", re.IGNORECASE),
    re.compile(r"\b(?:write|compose|tell|give|sing)\b.{0,20}\b(?:poem|story|essay|song|joke|code|letter|"
               r"haiku|limerick|recipe|script)\b", re.IGNORECASE),
    re.compile(r"\byou are now\b|\bact as\b|\bpretend (?:to be|you)\b|\bsystem prompt\b|\bjailbreak\b|"
               r"\bdeveloper mode\b", re.IGNORECASE),
)


@dataclass
class RuleReport:
    """A caption after the rules, what was repaired on the way and what is still wrong."""

    caption: str
    violations: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def usable(self) -> bool:
        """False when the text is no caption at all (empty, a refusal, another language, verse)."""
        return not any(violation_code(v) in HARD_VIOLATIONS for v in self.violations)


def violation_code(violation: str) -> str:
    """``"missing_words: blue"`` → ``"missing_words"``."""
    return violation.split(":", 1)[0]


def strip_reasoning(text: str) -> str:
    """Remove reasoning: ``<think>`` blocks (closed, unclosed, or only closed) and "Thinking…" preambles."""
    finals = list(_HARMONY_FINAL.finditer(text))
    result = text[finals[-1].end():] if finals else text
    result = _SPECIAL_TOKEN.sub(" ", _CLOSED_BLOCK.sub(" ", result))
    closings = list(_CLOSING_TAG.finditer(result))
    if closings:  # the opening tag was in the chat template: everything before the last close is reasoning
        result = result[closings[-1].end():]
    opening = _OPENING_TAG.search(result)
    if opening:  # cut off while still thinking
        result = result[: opening.start()]
    if _THINKING_PREAMBLE.match(result):
        done = _DONE_THINKING.search(result)
        if done:
            result = result[done.end():]
        else:
            paragraphs = [p for p in _PARAGRAPH_BREAK.split(result) if p.strip()]
            result = paragraphs[-1] if len(paragraphs) > 1 else ""
    return result.strip()


def _strip_inline(text: str) -> str:
    text = _WORD_COUNT_NOTE.sub(" ", text)
    text = _MARKDOWN.sub("", text)
    text = _QUOTES.sub("", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", text))
    return text.strip(" \t-–—:")


def _feature_phrase(item: str) -> str:
    """``"Hull: blue wood"`` → ``"blue wood hull"``; other items unchanged."""
    key, sep, value = item.partition(":")
    if sep and value.strip() and 0 < len(key.split()) <= 2:
        return f"{value.strip().rstrip('.')} {key.strip().lower()}"
    return item.rstrip(".")


def _lower_first(text: str) -> str:
    """Lower-case a capitalized first word ("White sail" → "white sail"), not an acronym."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _is_verse(lines: list[str]) -> bool:
    if len(lines) < 3:
        return False
    short = sum(1 for line in lines if word_count(line) <= 8)
    unfinished = sum(1 for line in lines if not line.rstrip().endswith((".", "!", "?")))
    capitalized = sum(1 for line in lines if line.lstrip()[:1].isupper())  # wrapped prose is not
    return short == len(lines) and min(unfinished, capitalized) >= len(lines) - 1


@dataclass
class _Cleaned:
    text: str
    repairs: list[str]
    verse: bool = False


def clean_output(text: str) -> _Cleaned:
    """Reduce raw LLM output to one line of caption text (see the module docstring)."""
    repairs: list[str] = []
    stripped = strip_reasoning(text)
    if stripped != text.strip():
        repairs.append("removed reasoning")
    body = _CODE_FENCE.sub("", stripped)
    paragraphs = [[line for line in p.splitlines() if line.strip()] for p in _PARAGRAPH_BREAK.split(body)]
    lines_seen = [line for p in paragraphs for line in p]
    kept: list[list[str]] = []
    bullets: list[str] = []
    labeled: list[str] = []
    dropped_chatter = False
    list_heads: list[str] = []
    for paragraph in paragraphs:
        content = []
        for line in paragraph:
            if _HEADING.match(line) or _REASONING_LINE.match(line):
                continue
            bold = _BOLD_LINE.match(line)
            if bold and word_count(bold.group(2)) < 6:
                continue
            without_intro = _INTRO.sub("", line)
            dropped_chatter = dropped_chatter or without_intro != line
            line = without_intro
            labeled_line = _LABEL.sub("", line, count=1)
            if labeled_line != line:
                line = labeled_line
                if line.strip():
                    labeled.append(line)
            if not line.strip() or (_CHATTER.match(line) and len(lines_seen) > 1):
                dropped_chatter = True
                continue
            if line.rstrip().endswith(":") and word_count(line) <= 8:
                if word_count(line) >= 2:
                    list_heads.append(_strip_inline(line).rstrip(":"))
                continue  # an intro or heading, or the head of a list that follows
            bullet = _BULLET.match(line)
            if bullet:
                bullets.append(bullet.group(1).strip())
                continue
            content.append(line.strip())
        if content:
            kept.append(content)
    verse = any(_is_verse(p) for p in kept)
    if len(labeled) >= 2:
        repairs.append("kept the first of several captions")
        candidate = labeled[0]
    elif bullets and all(word_count(b) >= 6 for b in bullets) and len(bullets) >= 2:
        repairs.append("kept the first of several captions")
        candidate = bullets[0]
    elif bullets:
        repairs.append("joined a list into one phrase")
        items = [_feature_phrase(_strip_inline(b)) for b in bullets]
        items = [items[0]] + [_lower_first(item) for item in items[1:]]
        if kept:
            head = " ".join(kept[0]).rstrip(":")
        else:
            head = list_heads[-1] if list_heads else items.pop(0)
        if items:
            joined = ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]
            candidate = f"{head} with {joined}."
        else:
            candidate = head
    elif kept:
        if len(kept) > 1:
            repairs.append("kept the first paragraph")
        candidate = " ".join(kept[0])
    else:
        candidate = ""
    sentences = _SENTENCE_SPLIT.split(_strip_inline(candidate))
    chatty = [s for s in sentences if _CHATTER.match(s)]
    if chatty and len(chatty) < len(sentences):
        repairs.append("removed chatter")
        sentences = [s for s in sentences if not _CHATTER.match(s)]
    if dropped_chatter and "removed chatter" not in repairs:
        repairs.append("removed chatter")
    caption = " ".join(sentences).strip()
    if caption != candidate.strip() and "removed chatter" not in repairs and caption:
        repairs.append("removed markup or quotes")
    return _Cleaned(caption, repairs, verse)


def _trim_words(text: str, max_words: int) -> str:
    tokens = text.split()
    if word_count(text) <= max_words:
        return text
    limit = min(max_words, len(tokens))
    sentence_end = max((k for k in range(1, limit + 1) if tokens[k - 1].endswith((".", "!", "?", ";"))),
                       default=0)
    clause_end = max((k for k in range(1, limit + 1)
                      if tokens[k - 1].endswith((",", ":", "—"))
                      or (k < len(tokens) and tokens[k].lower() in _CLAUSE_STARTERS)), default=0)
    if sentence_end >= max_words // 2 or sentence_end >= clause_end:
        cut = sentence_end
    else:
        cut = clause_end
    if cut < 3:
        cut = limit
    kept = tokens[:cut]
    while kept and kept[-1].lower().strip(",;:—") in _DANGLING:
        kept.pop()
    result = " ".join(kept).rstrip(",;:—- ")
    return result if result.endswith((".", "!", "?")) else result + "."


def fit_limits(text: str, max_words: int = MAX_CAPTION_WORDS,
               max_clip_tokens: int = CLIP_CONTEXT_LENGTH) -> tuple[str, list[str]]:
    """Trim ``text`` at sentence or clause boundaries until it fits both limits; (text, repairs)."""
    before = word_count(text)
    result = _trim_words(text, max_words)
    budget = min(max_words, word_count(result))
    while budget > 1 and clip_token_count(result) > max_clip_tokens:
        budget -= 1
        result = _trim_words(result, budget)
    after = word_count(result)
    repairs = [f"trimmed from {before} to {after} words"] if after < before else []
    return result, repairs


def _foreign_share(text: str) -> tuple[float, int, int]:
    letters = _LETTER.findall(text)
    non_latin = sum(1 for c in letters if ord(c) > 0x24F)
    tokens = words(text)
    english = sum(1 for t in tokens if t in _ENGLISH_FUNCTION)
    foreign = sum(1 for t in tokens if t in _FOREIGN_FUNCTION)
    return (non_latin / len(letters) if letters else 0.0), english, foreign


def _other_language(prompt: str, caption: str) -> bool:
    caption_script, caption_en, caption_foreign = _foreign_share(caption)
    prompt_script, prompt_en, prompt_foreign = _foreign_share(prompt)
    if caption_script > 0.3 and prompt_script <= 0.3:
        return True
    return caption_foreign >= 2 and caption_foreign > caption_en and prompt_foreign <= prompt_en


def check_caption(prompt: str, caption: str, max_words: int = MAX_CAPTION_WORDS,
                  max_clip_tokens: int = CLIP_CONTEXT_LENGTH) -> list[str]:
    """Violations of the caption rules by ``caption`` for ``prompt`` (empty when it passes)."""
    if not _LETTER.search(caption):
        return ["empty"]
    if _REFUSAL.match(caption):
        return ["refusal"]
    violations = []
    if _other_language(prompt, caption):
        violations.append("language")
    count = word_count(caption)
    if count > max_words:
        violations.append(f"too_many_words: {count} > {max_words}")
    tokens = clip_token_count(caption)
    if tokens > max_clip_tokens:
        violations.append(f"too_many_clip_tokens: {tokens} > {max_clip_tokens}")
    missing = missing_content_words(prompt, caption)
    if missing:
        violations.append("missing_words: " + ", ".join(missing))
    return violations


def _ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"[^\W_]+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def echoes(caption: str, instructions: Sequence[str], prompt: str, n: int = ECHO_WORDS) -> bool:
    """Whether ``caption`` repeats ``n`` consecutive words of one of ``instructions`` that are not
    also words of ``prompt`` (a caption may of course repeat the description it was given)."""
    copied = set().union(*(_ngrams(text, n) for text in instructions)) - _ngrams(prompt, n) if instructions else set()
    return bool(copied & _ngrams(caption, n))


def apply_rules(prompt: str, output: str, max_words: int = MAX_CAPTION_WORDS,
                max_clip_tokens: int = CLIP_CONTEXT_LENGTH, instructions: Sequence[str] = ()) -> RuleReport:
    """Clean, trim and check raw LLM ``output`` for ``prompt``; ``instructions``: the texts it was
    sent, which the caption must not repeat (:func:`echoes`)."""
    cleaned = clean_output(output)
    repairs = list(cleaned.repairs)
    caption = cleaned.text
    if caption and not cleaned.verse and not _REFUSAL.match(caption):
        caption, trimmed = fit_limits(caption, max_words, max_clip_tokens)
        repairs += trimmed
    violations = check_caption(prompt, caption, max_words, max_clip_tokens)
    if cleaned.verse and "empty" not in violations:
        violations.insert(0, "verse")
    if caption and echoes(caption, instructions, prompt):
        violations.insert(0, "echo")
    return RuleReport(caption, violations, repairs)


def check_identity(prompt: str, max_words: int = MAX_CAPTION_WORDS,
                   max_clip_tokens: int = CLIP_CONTEXT_LENGTH) -> RuleReport:
    """The rules applied to the prompt itself, unchanged (the ``none`` baseline)."""
    caption = " ".join(prompt.split())
    return RuleReport(caption, check_caption(prompt, caption, max_words, max_clip_tokens), [])


def prompt_warnings(prompt: str, max_prompt_words: int = MAX_PROMPT_WORDS) -> list[str]:
    """Warnings about a prompt that is still accepted (longer than the ≤ 6-word protocol)."""
    count = word_count(prompt)
    if count > max_prompt_words:
        return [(f"prompt has {count} words (the protocol's prompts have at most {max_prompt_words}); "
                 "it is used whole, not cut")]
    return []


def prompt_problem(prompt: str) -> str | None:
    """Why ``prompt`` cannot be augmented (empty, or an instruction to the LLM), else ``None``."""
    if not _LETTER.search(prompt) or not content_words(prompt):
        return "names no object: describe one, e.g. 'small blue sailboat'"
    for pattern in _INJECTION:
        if pattern.search(prompt):
            return ("reads as an instruction to the language model, not a description of an object; "
                    "describe the object instead")
    return None
