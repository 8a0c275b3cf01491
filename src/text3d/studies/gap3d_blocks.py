"""GAP3D's share bars on several blocks of held-out objects.

R@1 among n captions is a proportion with standard error √(p(1−p)/n): about 3 points at p = 0.7,
n = 200, so one block of :func:`text3d.studies.gap3d.evaluate_rows` cannot settle a share near its
bar of 85 %. Block 1 is the whole study in ``out``; block k ≥ 2 (seeds from first_seed + (k−1)·n)
repeats the rows the bars need under ``out/blocks/seed-S``; the bars are judged on the means.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from text3d.errors import InputError
from text3d.store.atomic import write_json, write_text
from text3d.studies.aligner import alignment_seeds
from text3d.studies.gap3d import CLIP_SHARE, ROWS, Row, check_rows, evaluate_rows

BLOCK_ROWS = ("image-to-3d", "text-to-3d", "gap3d-stage2")
"""The rows every block repeats: the share bars' two and their upper bound (the true tokens)."""
BLOCK_METRICS = ("clip_user", "r_at_1")


def evaluate_blocks(out: str | Path, first_seed: int, n: int, blocks: int, folders: dict[str, Path],
                    steps: int | None = None, cfg: float | None = None, resolution: int = 128,
                    model: str | None = None, rows: Sequence[Row] = ROWS, check: bool = True) -> dict[str, Any]:
    """Table 3's share bars on ``blocks`` consecutive blocks of ``n`` held-out objects.

    R@1 among n captions is a proportion with standard error √(p(1−p)/n), ≈ 3 points at p = 0.7,
    n = 200, so one block cannot settle a share near its bar. Block 1 (``first_seed``…) is the
    whole of :func:`evaluate_rows` (``rows``) in ``out``; block k ≥ 2 starts at ``first_seed + (k−1)·n`` and
    runs :data:`BLOCK_ROWS` under ``out/blocks/seed-S``. Writes ``gap3d_3d_blocks.json`` and
    ``.md``; every run is resumable, as in :func:`evaluate_rows`, and every block's earlier runs
    are checked before the first block starts (``check`` False: the caller has checked)."""
    out = Path(out)
    plan = block_plan(out, first_seed, n, blocks, rows)
    if check:
        check_blocks(out, first_seed, n, blocks, folders, steps, cfg, resolution, model, rows)
    results = [evaluate_rows(folder, seed, n, folders, steps, cfg, resolution, rows=block_rows, model=model,
                             check=False) for folder, seed, block_rows in plan]
    summary = {"n": n, "blocks": [r["seeds"]["line"] for r in results], **block_summary(
        [r["metrics"] for r in results])}
    write_json(out / "gap3d_3d_blocks.json", summary)
    write_text(out / "gap3d_3d_blocks.md", blocks_markdown(summary))
    return {"first_block": results[0], "blocks": summary}


def block_plan(out: Path, first_seed: int, n: int, blocks: int,
               rows: Sequence[Row] = ROWS) -> list[tuple[Path, int, list[Row]]]:
    """(folder, first seed, rows) of each block: block 1 is ``out`` with ``rows``, block k ≥ 2 is
    ``out/blocks/seed-S``, S = first_seed + (k−1)·n, with :data:`BLOCK_ROWS`."""
    missing = [name for name in BLOCK_ROWS if name not in {row.name for row in rows}]
    if blocks > 1 and missing:
        raise ValueError(f"block 1 needs the rows {', '.join(missing)}")
    try:
        alignment_seeds(first_seed, n * blocks)  # every block in one held-out range
    except InputError:
        if blocks == 1:
            raise
        raise InputError(f"--seed {first_seed} --n {n} --blocks {blocks}: the blocks' seeds {first_seed:,}–"
                         f"{first_seed + n * blocks - 1:,} must lie in one held-out range; give fewer --blocks"
                         ) from None
    repeated = [row for row in ROWS if row.name in BLOCK_ROWS]
    return [(out, first_seed, list(rows))] + [(out / "blocks" / f"seed-{first_seed + k * n}", first_seed + k * n,
                                               repeated) for k in range(1, blocks)]


def check_blocks(out: str | Path, first_seed: int, n: int, blocks: int, folders: dict[str, Path],
                 steps: int | None = None, cfg: float | None = None, resolution: int = 128,
                 model: str | None = None, rows: Sequence[Row] = ROWS) -> None:
    """:func:`check_rows` on every block of :func:`evaluate_blocks` (one block: ``out`` alone)."""
    for folder, seed, block_rows in block_plan(Path(out), first_seed, n, blocks, rows):
        check_rows(folder, seed, n, folders, steps, cfg, resolution, block_rows, model=model)


def block_summary(blocks: Sequence[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Per row of :data:`BLOCK_ROWS`, CLIP and R@1 of each block (equal n), their mean over the B
    blocks and its standard error s/√B (s the blocks' sample deviation); the share bars on the
    means: mean(stage 2) / mean(text) ≥ :data:`CLIP_SHARE`."""
    rows: dict[str, dict[str, Any]] = {}
    for name in BLOCK_ROWS:
        per = {key: [float(m[name][key]) for m in blocks] for key in BLOCK_METRICS}
        rows[name] = {key: {"blocks": values, "mean": float(np.mean(values)),
                            "sem": float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else None}
                      for key, values in per.items()}
    shares = {}
    for key in BLOCK_METRICS:
        share = rows["gap3d-stage2"][key]["mean"] / rows["text-to-3d"][key]["mean"]
        shares[f"{key}_share"] = {"value": share, "bar": CLIP_SHARE, "pass": share >= CLIP_SHARE,
                                  "per_block": [s / t for s, t in zip(rows["gap3d-stage2"][key]["blocks"],
                                                                      rows["text-to-3d"][key]["blocks"])]}
    return {"rows": rows, "bars": shares}


def blocks_markdown(summary: dict[str, Any]) -> str:
    """One line per row: CLIP / R@1 of each block, then the means ± standard error; then the bars."""
    count = len(summary["blocks"])
    headers = ["system"] + [f"block {k + 1} CLIP / R@1" for k in range(count)] + ["mean CLIP", "mean R@1"]
    lines = [f"Blocks of n = {summary['n']}: " + "; ".join(summary["blocks"]) + ".", "",
             "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for name, row in summary["rows"].items():
        clip, r1 = row["clip_user"], row["r_at_1"]
        cells = [f"{c:.2f} / {r:.1f}" for c, r in zip(clip["blocks"], r1["blocks"])]
        means = [f"{m['mean']:.2f}" + (f" ± {m['sem']:.2f}" if m["sem"] is not None else "") for m in (clip, r1)]
        lines.append("| " + " | ".join([name, *cells, *means]) + " |")
    lines += ["", "**Bars on the means**", ""]
    for key, bar in summary["bars"].items():
        blocks = ", ".join(f"{v:.3f}" for v in bar["per_block"])
        lines.append(f"- {key}: {bar['value']:.3f} (≥ {bar['bar']}; per block {blocks}) — "
                     f"{'PASS' if bar['pass'] else 'FAIL'}")
    return "\n".join(lines) + "\n"
