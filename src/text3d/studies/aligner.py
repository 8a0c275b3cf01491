"""GAP3D's alignment tables (Gkotsi et al., 2026, Tables 1–2) for trained aligner folders.

For held-out toyworld pairs of both curriculum kinds — "general" multi-object scenes (the
paper's MS-COCO column) and single objects at their least-occluded view (its Toys4K column) —
the aligner generates the image encoder's tokens from each caption, and they are compared with
the true tokens of the pair's image:

* Table 1, per token group (CLS, registers, patches; App. C, eqs. 6–8), over B samples of N
  tokens of width D: cos = 1/(B·N) Σ x̂·x / max(‖x̂‖‖x‖, ε); MSE = 1/(B·N·D) Σ ‖x̂ − x‖²;
  norm ratio = 1/(B·N) Σ ‖x̂‖ / (‖x‖ + ε), ε = 1e-8.
* Table 2, zero-shot text→image retrieval (§5.3): each caption's generated CLS (or mean-pooled
  generated patches) queries the database of the true CLS (or mean-pooled true patches) of all
  B images by cosine; R@K (%) = share of captions whose own image ranks in the top K.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from text3d.align.sampling import TokenAligner, sampling_line
from text3d.align.scenes import pairs as toyworld_pairs
from text3d.align.scenes import stage2_twins
from text3d.data.toyworld.instance import HELDOUT_SEEDS, describe_seeds
from text3d.encoders.embedded import EmbeddedImageEncoder
from text3d.errors import InputError
from text3d.nn.aligner import GROUPS
from text3d.progress import track
from text3d.store.atomic import write_png, write_text

log = logging.getLogger(__name__)

EPS = 1e-8
KS = (1, 5, 10)
SPREAD_SEED_OFFSET = 1_000_003
"""Seed offset of the second sample of each caption, from which ``sample_cos`` is measured."""
DOMAINS = {1: "general", 2: "objects"}
"""Pair kinds by curriculum stage: stage-1 scenes (general domain), stage-2 single objects."""
PairSource = Callable[..., Iterator[Any]]


def group_alignment(generated: torch.Tensor, target: torch.Tensor, eps: float = EPS) -> dict[str, float]:
    """{cos, mse, norm_ratio} of generated vs target tokens (B, N, D) (App. C, eqs. 6–8)."""
    g, x = generated.double(), target.double()
    gn, xn = g.norm(dim=-1), x.norm(dim=-1)  # (B, N)
    cos = ((g * x).sum(-1) / torch.clamp(gn * xn, min=eps)).mean()
    mse = ((g - x) ** 2).mean()
    ratio = (gn / (xn + eps)).mean()
    return {"cos": float(cos), "mse": float(mse), "norm_ratio": float(ratio)}


def retrieval_recall(queries: torch.Tensor, database: torch.Tensor, ks: Sequence[int] = KS,
                     rows: torch.Tensor | None = None) -> dict[str, float]:
    """R@K (%) of query i finding its own database row (``rows[i]``, default i) among all rows by
    cosine; queries (M, D), database (B, D). None for K ≥ B (it would be 100 whatever the queries)."""
    q = torch.nn.functional.normalize(queries.double(), dim=-1)
    d = torch.nn.functional.normalize(database.double(), dim=-1)
    scores = q @ d.T  # (M, B)
    own = scores.gather(1, (torch.arange(len(q)) if rows is None else rows)[:, None])
    rank = (scores > own).sum(dim=1)  # 0 = first; ties count in the query's favour
    # Among B ≤ K rows every query's own row is in the top K: that R@K cannot fail, so it is None.
    return {f"r_at_{k}": float(100.0 * (rank < k).double().mean()) if k < len(d) else None for k in ks}


@dataclass(frozen=True)
class HeldOutPairs:
    """True tokens (B, 1 + R + G², D), captions and images (B, H, W, 3) uint8 of held-out pairs of one kind."""

    tokens: torch.Tensor
    captions: tuple[str, ...]
    registers: int
    images: np.ndarray | None = None

    def split(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """{cls (B,1,D), registers (B,R,D), patches (B,G²,D)} of a token sequence laid out like the encoder's."""
        r = self.registers
        return {"cls": tokens[:, :1], "registers": tokens[:, 1:1 + r], "patches": tokens[:, 1 + r:]}


def held_out_pairs(stage: int, seeds: Iterable[int], encoder: EmbeddedImageEncoder,
                   pair_source: PairSource | None = None) -> HeldOutPairs:
    """Render the pairs of ``seeds`` (each pair's first caption) and encode their true tokens."""
    source = pair_source or toyworld_pairs
    seeds = list(seeds)
    made = list(track(source(stage, seeds, resolution=encoder.config.image_size), total=len(seeds),
                      description=f"held-out {DOMAINS[stage]} pairs"))
    images = [np.asarray(p.image, np.uint8) for p in made]
    captions = tuple(p.caption for p in made)
    return HeldOutPairs(tokens=encoder.tokens(images).float(), captions=captions, registers=encoder.config.registers,
                        images=np.stack(images))


def evaluate_aligner(folder: str | Path, data: HeldOutPairs, steps: int | None = None, cfg: float | None = None,
                     seed: int = 0, batch: int = 64, **sampling: Any) -> dict[str, Any]:
    """Table 1 and Table 2 entries of one aligner folder on one set of held-out pairs (sampler
    settings left None are the folder's; ``sample_cos``: the cosine between two samples of each
    caption, drawn from other noise: 1 when sampling has no variety), ``top``: each caption's 4 best database rows by
    generated CLS (for the retrieval figure), and ``sampling``: the settings used."""
    aligner = TokenAligner.from_pretrained(folder, steps=steps, cfg=cfg, **sampling)

    def sample(first: int) -> dict[str, torch.Tensor]:
        return data.split(torch.cat([aligner.sample(list(data.captions[i:i + batch]), first + i)
                                     for i in range(0, len(data.captions), batch)]))

    fake, again, true = sample(seed), sample(seed + SPREAD_SEED_OFFSET), data.split(data.tokens)
    table1 = {group: {**group_alignment(fake[group], true[group]),
                      "sample_cos": group_alignment(fake[group], again[group])["cos"]} for group in GROUPS}
    table2 = {"cls": retrieval_recall(fake["cls"][:, 0], true["cls"][:, 0]),
              "pooled_patches": retrieval_recall(fake["patches"].mean(1), true["patches"].mean(1))}
    return {"alignment": table1, "retrieval": table2,
            "top": top_matches(fake["cls"][:, 0], true["cls"][:, 0], FIGURE_TOP).tolist(),
            "sampling": {k: v for k, v in aligner.describe().items() if k not in ("kind", "aligner")}}


def twin_reference(data: HeldOutPairs, seeds: Sequence[int], encoder: EmbeddedImageEncoder,
                   twin_source: Callable[[int], Sequence[Any]] | None = None) -> dict[str, Any]:
    """Table 1 and Table 2 entries of a reference "aligner" that answers each caption with the true
    tokens of a twin (:func:`~text3d.align.scenes.stage2_twins`: another toyworld object sharing
    everything the caption can state), over the held-out objects ``data`` of ``seeds`` that have a
    twin; retrieval still ranks among all of ``data``. A perfect aligner samples p(tokens | caption)
    and would score about this."""
    source = twin_source or (lambda seed: stage2_twins(seed, 1, resolution=encoder.config.image_size))
    found = [(i, twins[0]) for i, seed in enumerate(track(list(seeds), description="twins"))
             for twins in [source(int(seed))] if twins]
    if not found:
        raise InputError("no held-out object has a twin; give more objects (--n)")
    rows = torch.tensor([i for i, _ in found])
    twin = data.split(encoder.tokens([np.asarray(p.image, np.uint8) for _, p in found]).float())
    true = data.split(data.tokens)
    mine = {g: true[g][rows] for g in GROUPS}

    return {"objects": len(found), "of": len(seeds),
            "alignment": {g: group_alignment(twin[g], mine[g]) for g in GROUPS},
            "retrieval": {"cls": retrieval_recall(twin["cls"][:, 0], true["cls"][:, 0], rows=rows),
                          "pooled_patches": retrieval_recall(twin["patches"].mean(1), true["patches"].mean(1),
                                                             rows=rows)}}


FIGURE_TOP = 4
"""Retrieved images per query in the retrieval figure (the paper's Fig. 2 shows 4)."""
FIGURE_ROWS = 6


def top_matches(queries: torch.Tensor, database: torch.Tensor, k: int = FIGURE_TOP) -> np.ndarray:
    """Indices (B, k) of each query's k most cosine-similar database rows, best first; (B, D) each."""
    q = torch.nn.functional.normalize(queries.double(), dim=-1)
    d = torch.nn.functional.normalize(database.double(), dim=-1)
    return (q @ d.T).topk(min(k, len(d)), dim=1).indices.numpy()


def retrieval_figure(images: np.ndarray, captions: Sequence[str], top: Sequence[Sequence[int]],
                     queries: Sequence[int], cell: int = 96) -> np.ndarray:
    """The paper's Fig. 2 as an image (H, W, 3) uint8: per query a row with its true image (GT)
    and its top retrieved images, the query's own image framed green where it was retrieved;
    the caption is written above the row."""
    from PIL import Image, ImageDraw

    k, pad, text_h, frame = len(top[0]), 6, 14, 3
    width = pad + (k + 1) * (cell + pad)
    canvas = Image.new("RGB", (width, len(queries) * (text_h + cell + 2 * pad) + pad), "white")
    draw = ImageDraw.Draw(canvas)
    chars = max(8, (width - 2 * pad) // 6)  # PIL's default bitmap font is 6 px wide
    for r, q in enumerate(queries):
        y = pad + r * (text_h + cell + 2 * pad)
        caption = captions[q] if len(captions[q]) <= chars else captions[q][:chars - 1] + "…"
        draw.text((pad, y), caption, fill=(0, 0, 0))
        y += text_h
        for c, index in enumerate([q, *top[q]]):
            x = pad + c * (cell + pad)
            color = (120, 120, 120) if c == 0 else (0, 170, 0) if index == q else (225, 225, 225)
            draw.rectangle([x - frame, y - frame, x + cell + frame - 1, y + cell + frame - 1], fill=color)
            canvas.paste(Image.fromarray(images[index]).resize((cell, cell), Image.NEAREST), (x, y))
        draw.text((pad, y + cell + 1), "GT", fill=(90, 90, 90))
    return np.asarray(canvas)


def alignment_seeds(first_seed: int, n: int) -> dict[str, str]:
    """The range of seeds ``first_seed``..``first_seed + n − 1``; training seeds, or seeds across the
    development and test ranges, are refused."""
    if first_seed not in HELDOUT_SEEDS:  # split_of refuses a seed past the ranges without naming --seed
        raise InputError(f"--seed {first_seed}: use a held-out seed (in [1,000,000, 2,000,000))")
    last = first_seed + n - 1
    if last not in HELDOUT_SEEDS:
        raise InputError(f"--seed {first_seed} --n {n}: the last pair's seed {last:,} is past the held-out "
                         "range (< 2,000,000); give a smaller --n")
    described = describe_seeds(first_seed, last)
    if "+" in described["range"]:
        raise InputError(f"{described['line']}: the pairs must lie in one range; pick another --seed or --n")
    return described


def evaluate_aligners(folders: dict[str, Path], first_seed: int, n: int, steps: int | None = None,
                      cfg: float | None = None, pair_source: PairSource | None = None,
                      figures: str | Path | None = None, domains: Sequence[str] = tuple(DOMAINS.values()),
                      twins: bool = False) -> dict[str, Any]:
    """Both tables for every named folder ({"stage 1": …, "stage 2": …}) on ``n`` held-out pairs of
    each kind in ``domains`` from ``first_seed`` (sampler settings left None are each folder's);
    with ``figures``, a retrieval figure per folder and kind there (``retrieval_stage2_objects.png``, …);
    with ``twins``, the objects' :func:`twin_reference` as ``"twins"``."""
    described = alignment_seeds(first_seed, n)
    unknown = [d for d in domains if d not in DOMAINS.values()]
    if unknown or not domains:
        raise InputError(f"--domains {','.join(domains)}: use {' and/or '.join(DOMAINS.values())}")
    encoder = EmbeddedImageEncoder.from_pretrained(None)
    seeds = range(first_seed, first_seed + n)
    data = {DOMAINS[stage]: held_out_pairs(stage, seeds, encoder, pair_source) for stage in DOMAINS
            if DOMAINS[stage] in domains}
    rows = {name: {domain: evaluate_aligner(folder, pairs, steps, cfg) for domain, pairs in data.items()}
            for name, folder in folders.items()}
    if figures is not None:  # the first FIGURE_ROWS queries: shown as they come, not picked
        for name, row in rows.items():
            for domain, pairs in data.items():
                queries = range(min(FIGURE_ROWS, len(pairs.captions)))
                write_png(Path(figures) / f"retrieval_{name.replace(' ', '')}_{domain}.png",
                          retrieval_figure(pairs.images, pairs.captions, row[domain]["top"], queries))
    result = {"seeds": described, "n": n, "domains": list(data),
              "folders": {k: str(v) for k, v in folders.items()}, "rows": rows}
    if twins and "objects" in data:
        result["twins"] = twin_reference(data["objects"], seeds, encoder)
    return result


def tables_markdown(result: dict[str, Any]) -> str:
    """Table 1 (cos / MSE / norm ratio per group and domain) and Table 2 (R@1/5/10) in the paper's layout."""
    domains = result["domains"]
    head1 = " | ".join(f"{d} {g} {m}" for d in domains for g in ("patches", "cls", "registers")
                       for m in ("cos↑", "MSE↓", "norm r.→1"))
    settings = "; ".join(f"{name}: {sampling_line(s)}" for name, row in result["rows"].items()
                         for s in [next(iter(row.values()))["sampling"]])
    lines = [f"Held-out pairs: {result['seeds']['line']}, n = {result['n']} per domain.", f"Sampling — {settings}.", "",
             "**Table 1** — generated vs true image-encoder tokens", "",
             f"| model | {head1} |", "|---|" + "---|" * (len(domains) * 9)]
    for name, row in result["rows"].items():
        cells = [f"{row[d]['alignment'][g][m]:.3f}" for d in domains for g in ("patches", "cls", "registers")
                 for m in ("cos", "mse", "norm_ratio")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    head_spread = " | ".join(f"{d} {g}" for d in domains for g in ("patches", "cls", "registers"))
    lines += ["", "**Spread** — cosine between two samples of one caption from other noise (1 = no variety; "
                  "the twins' reference below is that of two true objects of one description)", "",
              f"| model | {head_spread} |", "|---|" + "---|" * (len(domains) * 3)]
    for name, row in result["rows"].items():
        cells = [f"{row[d]['alignment'][g].get('sample_cos', float('nan')):.3f}" for d in domains
                 for g in ("patches", "cls", "registers")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    head2 = " | ".join(f"{d} {q} R@{k}" for d in domains for q in ("pooled-patch", "CLS") for k in KS)
    lines += ["", f"**Table 2** — zero-shot text→image retrieval among {result['n']} (%)", "",
              f"| model | {head2} |", "|---|" + "---|" * (len(domains) * 6)]
    for name, row in result["rows"].items():
        cells = [_percent(row[d]['retrieval'][q][f'r_at_{k}']) for d in domains
                 for q in ("pooled_patches", "cls") for k in KS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if "twins" in result:
        twin = result["twins"]
        lines += ["", f"**Reference** — true tokens of a twin (another object with every stated attribute), "
                      f"{twin['objects']} of {twin['of']} objects: "
                  + ", ".join(f"{g} cos {twin['alignment'][g]['cos']:.3f}" for g in ("patches", "cls", "registers"))
                  + "; CLS R@1/5/10 " + " / ".join(_percent(twin['retrieval']['cls'][f'r_at_{k}']) for k in KS)
                  + f" among {result['n']}"]
    return "\n".join(lines) + "\n"


def _percent(value: float | None) -> str:
    """A table cell: one decimal, or "—" for a figure that is not defined (R@K among ≤ K)."""
    return "—" if value is None else f"{value:.1f}"


def write_tables(result: dict[str, Any], out: str | Path) -> tuple[Path, Path]:
    """Write ``alignment.json`` and ``alignment.md`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return (write_text(out / "alignment.json", json.dumps(result, indent=2) + "\n"),
            write_text(out / "alignment.md", tables_markdown(result)))


def calibrate_aligner(folder: str | Path, first_seed: int, n: int, steps: int | None = None,
                      cfg: float | None = None, guidance_rescale: float | None = None,
                      pair_source: PairSource | None = None, temperature: float | None = None,
                      group_cfg: dict[str, float] | None = None) -> dict[str, Any]:
    """The ``"sampling"`` block of an aligner folder, measured on ``n`` development pairs of the
    aligner's own curriculum kind: the given sampler settings (else the folder's) and
    ``token_scale`` s_k = 1 / mean_i(‖x̂_ik‖ / ‖x_ik‖), which brings each group's norm ratio
    (App. C, eq. 8) to 1 on those pairs; cosines and retrieval are scale-free, so unchanged.
    Test seeds are refused: what is chosen here is reported on them."""
    described = alignment_seeds(first_seed, n)
    if described["range"] != "dev":
        raise InputError(f"--seed {first_seed}: calibrate on development seeds [1,000,000, 1,900,000); "
                         "the test range is for the figures you report")
    saved = json.loads((Path(folder) / "config.json").read_text())
    stage = int(saved.get("training", {}).get("config", {}).get("stage", 2))
    data = held_out_pairs(stage, range(first_seed, first_seed + n), EmbeddedImageEncoder.from_pretrained(None),
                          pair_source)
    measured = evaluate_aligner(folder, data, steps, cfg, guidance_rescale=guidance_rescale, token_scale={},
                                temperature=temperature, group_cfg=group_cfg)
    settings = {k: v for k, v in measured["sampling"].items() if k != "token_scale"}
    ratios = {g: measured["alignment"][g]["norm_ratio"] for g in GROUPS}
    return {**settings, "token_scale": {g: round(1.0 / r, 6) for g, r in ratios.items()},
            "chosen_on": {"seeds": described["line"], "domain": DOMAINS[stage], "n": n,
                          "norm_ratio_before": {g: round(r, 6) for g, r in ratios.items()}}}
