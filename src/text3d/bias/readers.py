"""Readers of the two prompt benchmarks that "Multimodal Semantic Bias Mitigation for Diverse
Text-To-3D Generation" reports on, in their published layouts (a user-given file; nothing is
shipped or downloaded):

* MATE-3D (Zhang et al., 2024): prompts with their category (Basic, Refined, Complex,
  Fantastical, Spatial, Action, Grouped, Imaginative; 20 prompts each). Read from a CSV with a
  header naming a prompt column (``prompt`` / ``text``) and a category column (``category`` /
  ``type`` / ``class``), or from JSON: a list of ``{"prompt", "category"}`` objects, or an object
  ``{category: [prompt, …]}``.
* T³Bench (He et al., 2023): one text file per track, one prompt a line — ``prompt_single.txt``
  (single object), ``prompt_surr.txt`` (single object with surroundings), ``prompt_multi.txt``
  (multiple objects). Read from the folder holding them (any of the three) or one of the files.

Both return :class:`BenchmarkPrompt` rows; a malformed file is refused with one line naming it.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from text3d.errors import InputError

log = logging.getLogger(__name__)

MATE3D_CATEGORIES = ("Basic", "Refined", "Complex", "Fantastical", "Spatial", "Action", "Grouped", "Imaginative")
"""MATE-3D's eight prompt categories (a file's other names are kept as written, with a warning)."""

T3BENCH_TRACKS = {"prompt_single.txt": "Single Obj.", "prompt_surr.txt": "w/ Env", "prompt_multi.txt": "Multi-Obj."}
"""T³Bench's track files and the column names of its table."""

MAX_PROMPT_CHARS = 1000
PROMPT_COLUMNS = ("prompt", "text", "prompts")
CATEGORY_COLUMNS = ("category", "type", "class", "categories")


@dataclass(frozen=True)
class BenchmarkPrompt:
    """One prompt of a benchmark and its group (MATE-3D category or T³Bench track)."""

    prompt: str
    group: str


def _text(path: Path, what: str) -> str:
    if not path.is_file():
        raise InputError(f"{what} {path}: no such file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{what} {path}: not UTF-8 text") from None


def _check_prompt(prompt: object, path: Path, where: str, what: str) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputError(f"{what} {path}: {where}: empty or missing prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(f"{what} {path}: {where}: prompt longer than {MAX_PROMPT_CHARS} characters")
    return " ".join(prompt.split())


def _category(name: object, path: Path, where: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"--mate3d {path}: {where}: empty or missing category")
    for known in MATE3D_CATEGORIES:
        if name.strip().lower() in (known.lower(), known.lower().rstrip("al")):  # "Fantastic" = "Fantastical"
            return known
    log.warning("%s: %s: category %r is not one of MATE-3D's; kept as written", path, where, name)
    return name.strip()


def read_mate3d(path: str | Path) -> list[BenchmarkPrompt]:
    """MATE-3D prompts with their categories from a CSV or JSON file (layouts in the module doc)."""
    path = Path(path)
    text = _text(path, "--mate3d")
    rows: list[BenchmarkPrompt] = []
    if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"--mate3d {path}: not JSON ({exc.msg} at line {exc.lineno})") from None
        if isinstance(data, dict):
            for category, prompts in data.items():
                if not isinstance(prompts, list):
                    raise InputError(f"--mate3d {path}: category {category!r} is not a list of prompts")
                group = _category(category, path, f"category {category!r}")
                rows += [BenchmarkPrompt(_check_prompt(p, path, f"{category}[{i}]", "--mate3d"), group)
                         for i, p in enumerate(prompts)]
        elif isinstance(data, list):
            for i, item in enumerate(data):
                if not isinstance(item, dict):
                    raise InputError(f"--mate3d {path}: item {i} is not an object with prompt and category")
                keys = {k.lower(): v for k, v in item.items()}
                prompt = next((keys[c] for c in PROMPT_COLUMNS if c in keys), None)
                category = next((keys[c] for c in CATEGORY_COLUMNS if c in keys), None)
                rows.append(BenchmarkPrompt(_check_prompt(prompt, path, f"item {i}", "--mate3d"),
                                            _category(category, path, f"item {i}")))
        else:
            raise InputError(f"--mate3d {path}: JSON must be a list of objects or {{category: [prompts]}}")
    else:
        reader = csv.reader(io.StringIO(text))
        header = [h.strip().lower() for h in next(reader, [])]
        prompt_col = next((header.index(c) for c in PROMPT_COLUMNS if c in header), None)
        category_col = next((header.index(c) for c in CATEGORY_COLUMNS if c in header), None)
        if prompt_col is None or category_col is None:
            raise InputError(f"--mate3d {path}: the CSV header needs a prompt column ({'/'.join(PROMPT_COLUMNS)}) "
                             f"and a category column ({'/'.join(CATEGORY_COLUMNS)})")
        for number, record in enumerate(reader, 2):
            if not any(cell.strip() for cell in record):
                continue
            if len(record) <= max(prompt_col, category_col):
                raise InputError(f"--mate3d {path}: line {number} has {len(record)} fields, fewer than the header")
            rows.append(BenchmarkPrompt(_check_prompt(record[prompt_col], path, f"line {number}", "--mate3d"),
                                        _category(record[category_col], path, f"line {number}")))
    if not rows:
        raise InputError(f"--mate3d {path}: no prompts")
    return rows


def read_t3bench(path: str | Path) -> list[BenchmarkPrompt]:
    """T³Bench prompts with their track from its folder (any of its three files) or one file."""
    path = Path(path)
    if path.is_dir():
        files = [path / name for name in T3BENCH_TRACKS if (path / name).is_file()]
        if not files:
            raise InputError(f"--t3bench {path}: none of {', '.join(T3BENCH_TRACKS)} in this folder")
    elif path.name in T3BENCH_TRACKS:
        files = [path]
    else:
        raise InputError(f"--t3bench {path}: not a T³Bench track file (use {', '.join(T3BENCH_TRACKS)}, "
                         "or the folder holding them)")
    rows = []
    for file in files:
        track = T3BENCH_TRACKS[file.name]
        lines = _text(file, "--t3bench").splitlines()
        prompts = [_check_prompt(line, file, f"line {n}", "--t3bench") for n, line in enumerate(lines, 1)
                   if line.strip()]
        if not prompts:
            raise InputError(f"--t3bench {file}: no prompts")
        rows += [BenchmarkPrompt(p, track) for p in prompts]
    return rows
