"""``text3d data …``: build toyworld, import Toys4K-style folders and prompt lists."""

from __future__ import annotations

from pathlib import Path

import typer

from text3d.cli._options import comma_list, command_group, output_folder, seed_option, wait_option
from text3d.data.prompt_files import read_prompts
from text3d.data.toys4k import import_prompt_list, import_toys4k, read_toys4k_csv
from text3d.data.toyworld.builder import BuildConfig, build_toyworld, check_config
from text3d.errors import InputError
from text3d.limits import MAX_ITEMS, MAX_RESOLUTION, MAX_WORKERS, MIN_RESOLUTION, check_seed
from text3d.render.cameras import PROTOCOLS
from text3d.store.outputs import check_not_input, check_run_output

data_app = command_group(help="Build or import data sets into the run-folder contract.", no_args_is_help=True)


@data_app.command("toyworld")
def toyworld_command(
    n: int = typer.Option(..., "--n", min=1, max=MAX_ITEMS,
                          help="Number of items (categories round-robin, seeds counting up)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder to create or resume."),
    seed: int = seed_option(help="Base seed: [0, 1e6) train, [1e6, 1.9e6) development, [1.9e6, 2e6) test."),
    views: str = typer.Option("canonical4", "--views", help="Comma-separated protocols, e.g. canonical4,clip8."),
    resolution: int = typer.Option(128, "--resolution", "-r", min=MIN_RESOLUTION, max=MAX_RESOLUTION,
                                   help="View size in pixels."),
    workers: int = typer.Option(0, "--workers", "-w", min=0, max=MAX_WORKERS,
                                help="Processes (0 = one per CPU core)."),
    points: bool = typer.Option(True, "--points/--no-points", help="Write points.ply (depth20 → 4,000 points)."),
    categories: str = typer.Option("", "--categories", help="Comma-separated subset of categories."),
    wait: bool = wait_option(),
) -> None:
    """Build (or resume) a toyworld run folder: assets, views, points, manifest.jsonl."""

    check_seed("--seed", seed, n)
    if categories and not categories.replace(",", "").strip():  # "," would silently mean every category
        raise InputError(f"--categories {categories!r}: names no category; leave it out for all of them")
    check_run_output(out)

    config = BuildConfig(n=n, seed=seed, views=comma_list(views, "--views"), resolution=resolution,
                         points=points, workers=workers,
                         categories=comma_list(categories, "--categories") if categories else ())
    check_config(config)
    with output_folder(out, wait):
        summary = build_toyworld(config, out)
    typer.echo(f"toyworld: {summary['built']} built, {summary['skipped']} already done, {summary['failed']} failed "
               f"in {summary['seconds']} s with {summary['workers']} workers → {out}")
    if summary["failed"]:
        raise typer.Exit(1)


@data_app.command("toys4k")
def toys4k_command(
    root: Path = typer.Argument(..., help="Folder holding the meshes (searched recursively)."),
    csv_path: Path = typer.Option(..., "--csv", help="TRELLIS's Toys4k.csv (captions as JSON lists)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder to create or resume."),
    limit: int = typer.Option(0, "--limit", min=0, max=MAX_ITEMS, help="Only the first N rows (0 = all)."),
    views: str = typer.Option("canonical4", "--views", help="Comma-separated protocols."),
    resolution: int = typer.Option(512, "--resolution", "-r", min=MIN_RESOLUTION, max=MAX_RESOLUTION),
    wait: bool = wait_option(),
) -> None:
    """Import a Toys4K-style folder + Toys4k.csv as a reference run folder."""

    protocols = comma_list(views, "--views")
    for protocol in protocols:
        if protocol not in PROTOCOLS:
            raise InputError(f"--views {protocol!r}: unknown protocol (known: {', '.join(PROTOCOLS)})")
    check_not_input(out, [root, csv_path])
    if not root.is_dir():
        raise InputError(f"{root}: not a folder")
    read_toys4k_csv(csv_path)  # a bad file is refused before the run folder is made
    check_run_output(out)
    with output_folder(out, wait):
        counts = import_toys4k(root, csv_path, out, limit or None, protocols, resolution)
    typer.echo(f"toys4k: {counts['done']} imported, {counts['skipped']} already done, "
               f"{counts['missing']} without mesh, "
               f"{counts['failed']} failed → {out}")
    if counts["failed"]:  # finished, not clean: manifest.jsonl says why, as generate --prompts
        raise typer.Exit(1)


@data_app.command("prompts")
def prompts_command(
    path: Path = typer.Argument(..., help="Text file with one prompt per line (T³Bench style), or JSON lines with a "
                                          "'prompt' field (.jsonl), as `generate --prompts` reads it."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder to create."),
    wait: bool = wait_option(),
) -> None:
    """Turn a prompt list into a run folder of pending items (T³Bench style; `generate --prompts` makes assets)."""

    if path.suffix.lower() in (".glb", ".gltf", ".obj", ".ply", ".stl", ".off"):
        raise InputError(f"{path}: expected a text file of prompts, got a mesh")
    check_not_input(out, [path])
    read_prompts(path)  # a bad file is refused before the run folder is made
    check_run_output(out)
    with output_folder(out, wait):
        count = import_prompt_list(path, out)
    typer.echo(f"prompts: {count} prompts → {out}/manifest.jsonl")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
