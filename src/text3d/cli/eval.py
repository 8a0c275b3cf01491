"""``text3d eval`` (the evaluation protocol on a run folder) and ``text3d eval compare``."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path

import typer

from text3d.cli._options import (
    comma_list,
    command_group,
    executor_option,
    overwrite_option,
    seed_option,
    wait_option,
    wait_seconds,
)
from text3d.errors import InputError
from text3d.limits import MAX_POINTS, MAX_RESOLUTION, MIN_RESOLUTION
from text3d.store.locks import exclusive, folder_lock
from text3d.store.outputs import (
    check_evaluation_output,
    check_not_input,
    folder_kind,
    removed_if_failed,
    same_path,
)

eval_app = command_group(
    name="eval",
    help="Evaluate a run folder (FD, KD, CLIP, R@K, latency) or compare evaluations.",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
)

log = logging.getLogger(__name__)


def parse_weights(values: list[str], names: tuple[str, ...]) -> dict[str, str]:
    """``NAME=PATH`` entries (or a bare PATH when exactly one extractor is named) → {name: path}."""
    weights: dict[str, str] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if sep and name in names:
            weights[name] = path
        elif len(names) == 1:
            weights[names[0]] = value
        else:
            raise InputError(f"--weights {value!r}: use NAME=PATH with NAME one of the extractors in use "
                             f"({', '.join(names)})")
    return weights


@eval_app.callback()
def eval_command(
    ctx: typer.Context,
    generated: Path = typer.Option(None, "--generated", "-g", help="Run folder of the generated assets."),
    reference: Path = typer.Option(None, "--reference", "-r",
                                   help="Run folder of the reference set; without it only CLIP, R@K and latency."),
    extractors: str = typer.Option(None, "--extractors", "-e",
                                   help="Comma-separated feature extractors, e.g. "
                                        "dinov2-vitl14,clip-vit-large-patch14."),
    views: str = typer.Option("canonical4", "--views", help="View protocol of FD/KD."),
    clip_views: str = typer.Option("clip8", "--clip-views", help="View protocol of the CLIP scores."),
    resolution: int = typer.Option(None, "--resolution", min=MIN_RESOLUTION, max=MAX_RESOLUTION,
                                   help="Render size; default: use existing views, render missing ones at 512."),
    weights: list[str] = typer.Option([], "--weights", "-w", help="NAME=PATH (hub id, folder or file); repeatable."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, cuda:1 or mps (default: automatic)."),
    seed: int = seed_option(help="Seed of the KD subsets."),
    kd_subsets: int = typer.Option(None, "--kd-subsets", min=1, max=10_000,
                                   help="Number of KD subsets (default 100; KD needs --reference)."),
    kd_subset_size: int = typer.Option(1000, "--kd-subset-size", min=2, max=1_000_000,
                                       help="Largest KD subset size."),
    n_points: int = typer.Option(4000, "--points", min=1, max=MAX_POINTS, help="Points per cloud for FD_PointNet."),
    point_resolution: int = typer.Option(256, "--point-resolution", min=MIN_RESOLUTION, max=MAX_RESOLUTION,
                                         help="Size of the 20 depth views for points."),
    no_render: bool = typer.Option(False, "--no-render", help="Fail instead of rendering missing views."),
    cache_dir: Path = typer.Option(None, "--cache-dir",
                                   help="Feature cache (default: $TEXT3D_CACHE_DIR/features or OUT/cache/features)."),
    system: str = typer.Option(None, "--system", help="System name in the tables (default: run.yaml or folder)."),
    family: str = typer.Option(None, "--family", help="System family for the comparison plots."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder for metrics.json, report.md, report.html, plots."),
    overwrite: bool = overwrite_option("an earlier evaluation"),
    wait: bool = wait_option(),
    executor: str = executor_option(),
) -> None:
    """Run the standard evaluation protocol on a run folder (see `text3d eval compare` too)."""
    if ctx.invoked_subcommand is not None:
        return
    if generated is None or out is None:
        raise InputError("text3d eval needs --generated RUN_DIR and --out DIR (or: text3d eval compare A B --out DIR)")
    # text3d.eval loads numpy, scipy, PIL and the encoders: imported here so `text3d --help` stays light
    from text3d.eval.protocol import DEFAULT_EXTRACTORS, EvalOptions, evaluate_run
    from text3d.eval.report import write_reports
    from text3d.eval.tables import table_columns
    from text3d.executors import check_executor

    check_executor(executor)
    check_eval_names(views, clip_views, extractors)
    for option, name in (("--system", system), ("--family", family)):
        if name is not None and (not name.strip() or not name.isprintable()):
            raise InputError(f"{option} {name!r}: give a name of visible characters on one line")
    for option, run in (("--generated", generated), ("--reference", reference)):
        if run is not None and folder_kind(run) != "run":
            raise InputError(f"{option} {run}: not a run folder (no manifest.jsonl)")
    check_evaluation_output(out, generated, overwrite)
    if cache_dir is not None and cache_dir.exists() and not cache_dir.is_dir():
        raise InputError(f"--cache-dir {cache_dir}: is a file; give a folder for the feature cache")

    if kd_subsets is not None and reference is None:
        log.warning("--kd-subsets %d is unused: KD compares with a reference set (--reference)", kd_subsets)
    names = comma_list(extractors, "--extractors") if extractors is not None else ()
    options = EvalOptions(extractors=names, views=views, clip_views=clip_views, resolution=resolution,
                          weights=parse_weights(weights, names or DEFAULT_EXTRACTORS), device=device, seed=seed,
                          kd_subset_size=kd_subset_size, n_points=n_points,
                          point_resolution=point_resolution, render_missing=not no_render,
                          cache_dir=cache_dir, system=system, family=family,
                          **({} if kd_subsets is None else {"kd_subsets": kd_subsets}))
    from text3d.eval.inputs import writable

    with ExitStack() as stack:  # the runs too: missing views and points are written into their items
        stack.enter_context(removed_if_failed(out))  # a refusal leaves no folder it made
        for folder in dict.fromkeys(p.resolve() for p in (out, generated, reference) if p is not None):
            if folder == out.resolve() or writable(folder):  # a read-only run is only read (out/derived)
                stack.enter_context(exclusive(folder_lock(folder), str(folder), wait_seconds(wait)))
        check_evaluation_output(out, generated, overwrite)
        result = evaluate_run(generated, out, reference, options, executor=executor)
        write_reports(result, out)
    for warning in result.warnings:  # recorded in metrics.json and the report; said here too
        log.warning("%s", warning)
    metrics = result.metrics
    shown = [f"{c.name}={c.value(metrics)}" for c in table_columns(metrics)
             if not c.path and c.value(metrics) is not None]
    typer.echo(f"evaluated {result.n_items} items: {', '.join(shown)}")
    typer.echo(f"wrote metrics.json, report.md and report.html to {out}")


def check_eval_names(views: str, clip_views: str, extractors: str | None) -> None:
    """Refuse (one line, naming the option) an unknown view protocol or feature extractor, before any
    folder is made or model loaded."""
    from text3d.encoders.base import extractors as registry
    from text3d.render.cameras import PROTOCOLS

    for option, name in (("--views", views), ("--clip-views", clip_views)):
        if name not in PROTOCOLS:
            raise InputError(f"{option} {name!r}: unknown view protocol (known: {', '.join(PROTOCOLS)})")
    if extractors is not None and not any(n.strip() for n in extractors.split(",")):
        raise InputError(f"--extractors {extractors!r}: name at least one extractor (known: "
                         f"{', '.join(registry.names())})")
    for name in comma_list(extractors, "--extractors") if extractors is not None else ():
        if name not in registry.names():
            raise InputError(f"--extractors: unknown extractor {name!r} (known: {', '.join(registry.names())})")


@eval_app.command("compare")
def compare_command(
    evaluations: list[Path] = typer.Argument(..., help="Evaluation folders (with metrics.json), two or more."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for compare.json, compare.md, compare.html, plots."),
    overwrite: bool = overwrite_option("an earlier comparison"),
) -> None:
    """Compare systems: one table, Pearson/Spearman between metrics, and the LLM-augmentation
    study's figures (CLIP_aug against FD, and against latency)."""
    from text3d.eval.compare import compare_evaluations  # heavy, as above

    folders = [p.parent if p.name == "metrics.json" and p.is_file() else p for p in evaluations]  # a file: its folder
    for i, folder in enumerate(folders):
        check_not_input(out, [folder])
        twice = [evaluations[j] for j, other in enumerate(folders[:i]) if same_path(other, folder)]
        if twice:
            raise InputError(f"{folder}: given twice (as {twice[0]}); compare different evaluations")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file; give a new or empty folder for the comparison")
    if (out / "compare.json").exists() and not overwrite:
        raise InputError(f"--out {out}: already holds a comparison (compare.json); pass --overwrite to replace it, "
                         "or choose another folder")
    if folder_kind(out) not in ("missing", "empty") and not (out / "compare.json").exists():
        raise InputError(f"--out {out}: holds other files; give a new or empty folder for the comparison")

    with removed_if_failed(out):
        document = compare_evaluations(list(evaluations), out)
    typer.echo(f"compared {len(document['systems'])} systems; wrote compare.md, compare.html to {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
