"""``text3d align …``: GAP3D's text → image-encoder-token aligner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import typer

from text3d.cli._options import comma_list, command_group, finite_option, overwrite_option
from text3d.errors import InputError
from text3d.limits import MAX_ITEMS, MAX_RESOLUTION, MAX_SEED, MIN_RESOLUTION
from text3d.store.outputs import check_job_output

align_app = command_group(help="GAP3D: align a language model's latents to the image encoder's tokens.",
                        no_args_is_help=True)

SHIPPED = {"stage 1": "aligner-stage1", "stage 2": "aligner-stage2"}


def aligner_folders(stage1: str | None, stage2: str | None) -> dict[str, Path]:
    """{"stage 1": folder, "stage 2": folder} of ``--stage1`` / ``--stage2``, refused in one line (exit 2,
    naming the option) when a path is no folder or holds no aligner of that stage."""
    from text3d.align.sampling import check_aligner_folder
    from text3d.nn.checkpoint import check_model_path, resolve_model_folder

    folders = {}
    for stage, (name, option, value) in enumerate((("stage 1", "--stage1", stage1), ("stage 2", "--stage2", stage2)),
                                                  start=1):
        check_model_path(value, SHIPPED[name], option)
        folders[name] = resolve_model_folder(value, SHIPPED[name])
        check_aligner_folder(folders[name], option, stage)
    return folders


def held_out_seed_option() -> int:
    return typer.Option(1_900_000, "--seed", min=1_000_000, max=MAX_SEED,
                        help="First held-out seed: [1,000,000, 1,900,000) development, [1,900,000, "
                             "2,000,000) test (report these).")


def stage_option(stage: int) -> str:
    return typer.Option(SHIPPED[f"stage {stage}"], f"--stage{stage}",
                        help=f"Stage-{stage} aligner folder (default: shipped).")


@align_app.command("evaluate")
def evaluate_command(
    out: Path = typer.Option(..., "--out", "-o",
                             help="Folder for alignment.json, alignment.md and the retrieval figures."),
    seed: int = held_out_seed_option(),
    n: int = typer.Option(200, "--n", min=2, max=MAX_ITEMS, help="Held-out pairs per domain (scenes, objects)."),
    stage1: str = stage_option(1),
    stage2: str = stage_option(2),
    steps: int = typer.Option(None, "--steps", min=1, max=1000, help="Euler steps (default: each aligner's)."),
    cfg: float = finite_option(None, "--cfg", 0.0, 50.0,
                               "Classifier-free guidance scale (default: each aligner's)."),
    domains: str = typer.Option("general,objects", "--domains",
                                help="Held-out pair kinds: general (scenes) and/or objects."),
    twins: bool = typer.Option(False, "--twins",
                               help="Add the reference row: each object's caption answered by the true tokens "
                                    "of a twin (another object with every attribute the caption states)."),
    as_json: bool = typer.Option(False, "--json", help="Print alignment.json instead of the tables."),
    overwrite: bool = overwrite_option("an earlier alignment evaluation"),
) -> None:
    """Tables 1–2 of GAP3D: token alignment (cos, MSE, norm ratio per group) and text→image retrieval."""
    # studies.aligner imports torch and the models: not on the cold path of `text3d --help`
    from text3d.studies.aligner import alignment_seeds, evaluate_aligners, tables_markdown, write_tables

    described = alignment_seeds(seed, n)
    kinds = comma_list(domains, "--domains")
    if twins and "objects" not in kinds:
        raise InputError(f"--twins: twins are single objects; add objects to --domains {domains}")
    folders = aligner_folders(stage1, stage2)
    check_job_output(out, ("alignment.json", "alignment.md", "retrieval_*.png"), "an alignment evaluation")
    earlier = [out / "alignment.json", out / "alignment.md", *sorted(out.glob("retrieval_*.png"))]
    if any(path.exists() for path in earlier) and not overwrite:
        raise InputError(f"--out {out}: already holds an alignment evaluation; pass --overwrite to replace it, "
                         "or choose another folder")
    typer.echo(described["line"], err=True)  # after the checks, so a refusal stays one line
    result = evaluate_aligners(folders, seed, n, steps, cfg, figures=out / ".figures.tmp",
                               domains=kinds, twins=twins)
    for path in earlier:  # the evaluation is done: replace the earlier one whole (no stale domain's figure)
        path.unlink(missing_ok=True)
    for figure in sorted((out / ".figures.tmp").glob("*.png")):
        figure.replace(out / figure.name)
    shutil.rmtree(out / ".figures.tmp", ignore_errors=True)
    write_tables(result, out)
    typer.echo(json.dumps(result, indent=2) if as_json else tables_markdown(result))


@align_app.command("evaluate-3d")
def evaluate_3d_command(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for runs/, eval/, gap3d_3d.json and gap3d_3d.md."),
    seed: int = held_out_seed_option(),
    n: int = typer.Option(200, "--n", min=2, max=MAX_ITEMS, help="Held-out objects."),
    stage1: str = stage_option(1),
    stage2: str = stage_option(2),
    steps: int = typer.Option(None, "--steps", min=1, max=1000, help="Euler steps (default: each aligner's)."),
    cfg: float = finite_option(None, "--cfg", 0.0, 50.0,
                               "Classifier-free guidance (default: each aligner's)."),
    resolution: int = typer.Option(128, "--resolution", min=MIN_RESOLUTION, max=MAX_RESOLUTION,
                                   help="Size of the evaluated views."),
    blocks: int = typer.Option(1, "--blocks", min=1, max=20,
                               help="Blocks of --n objects for the share bars (block k from seed + (k−1)·n; "
                                    "blocks 2… run image→3D, text→3D and stage 2 under OUT/blocks/)."),
    as_json: bool = typer.Option(False, "--json", help="Print gap3d_3d.json instead of the tables."),
) -> None:
    """Tables 3–4 of GAP3D: generate through true tokens, the text path and the aligners, then
    `text3d eval` each run against the true objects (resumable). With --blocks B, also the share
    bars on the mean of B blocks (gap3d_3d_blocks.md)."""
    from text3d.store.outputs import check_run_output
    from text3d.studies.aligner import alignment_seeds
    from text3d.studies.gap3d import evaluate_rows, tables_markdown
    from text3d.studies.gap3d_blocks import blocks_markdown, check_blocks, evaluate_blocks

    alignment_seeds(seed, n)
    folders = aligner_folders(stage1, stage2)
    check_job_output(out, ("runs", "eval", "cache", "blocks", "gap3d_3d.json", "gap3d_3d.md", "gap3d_3d_blocks.json",
                           "gap3d_3d_blocks.md"), "a GAP3D 3D evaluation")
    for run in sorted(out.glob("runs/*")) + sorted(out.glob("blocks/*/runs/*")):
        check_run_output(run)
    check_blocks(out, seed, n, blocks, folders, steps, cfg, resolution)  # seeds, earlier runs: before any work
    typer.echo(alignment_seeds(seed, n * blocks)["line"], err=True)  # after the checks: a refusal stays one line
    if blocks == 1:
        result = evaluate_rows(out, seed, n, folders, steps, cfg, resolution, check=False)
        typer.echo(json.dumps(result, indent=2) if as_json else tables_markdown(result))
        return
    both = evaluate_blocks(out, seed, n, blocks, folders, steps, cfg, resolution, check=False)
    typer.echo(json.dumps(both, indent=2) if as_json else
               tables_markdown(both["first_block"]) + "\n" + blocks_markdown(both["blocks"]))


@align_app.command("calibrate")
def calibrate_command(
    aligner: Path = typer.Option(..., "--aligner", help="Aligner folder whose config.json gets the sampling block."),
    seed: int = typer.Option(1_000_000, "--seed", min=1_000_000, max=MAX_SEED,
                             help="First development seed, in [1,000,000, 1,900,000); test seeds are refused."),
    n: int = typer.Option(200, "--n", min=2, max=MAX_ITEMS, help="Development pairs of the aligner's own kind."),
    steps: int = typer.Option(None, "--steps", min=1, max=1000, help="Euler steps (default: the folder's)."),
    cfg: float = finite_option(None, "--cfg", 0.0, 50.0,
                               "Guidance scale (default: the folder's)."),
    guidance_rescale: float = finite_option(None, "--guidance-rescale", 0.0, 1.0,
                                            "Guidance rescale φ (default: the folder's)."),
    temperature: float = finite_option(None, "--temperature", 0.0, 2.0,
                                       "Scale τ of the starting noise, x₀ = τ·ε (default: the folder's)."),
    group_cfg: str = typer.Option(None, "--group-cfg",
                                  help="Guidance weights of single token groups, e.g. 'cls=6,registers=6'; the "
                                       "others use --cfg (default: the folder's; a given --cfg alone drops them)."),
    overwrite: bool = typer.Option(False, "--overwrite",
                                   help="Replace a sampling block an earlier calibration wrote (refused without it)."),
) -> None:
    """Choose an aligner's sampling block on development pairs: the given steps, CFG (per token group
    if asked), guidance rescale and temperature, and per-group token scales that bring the norm ratio
    to 1 (cosines are unchanged). A block an earlier calibration chose is replaced only with --overwrite."""
    from text3d.align.sampling import check_aligner_folder, parse_group_cfg, write_sampling
    from text3d.studies.aligner import alignment_seeds, calibrate_aligner

    described = alignment_seeds(seed, n)
    if described["range"] != "dev":
        raise InputError(f"--seed {seed}: calibrate on development seeds [1,000,000, 1,900,000); the test range "
                         "is for the figures you report")
    check_aligner_folder(aligner, "--aligner")
    from text3d.nn.checkpoint import WEIGHTS_ROOT

    if aligner.resolve().is_relative_to(WEIGHTS_ROOT.resolve()):
        raise InputError(f"--aligner {aligner}: a shipped model folder is not recalibrated in place (its card "
                         "states the block it holds); copy the folder and calibrate the copy")
    groups = parse_group_cfg(group_cfg, "--group-cfg") if group_cfg is not None else None
    earlier = json.loads((aligner / "config.json").read_text()).get("sampling")
    earlier = earlier.get("chosen_on") if isinstance(earlier, dict) else None
    if isinstance(earlier, dict) and not overwrite:
        raise InputError(f"--aligner {aligner}: config.json already holds a calibrated sampling block (chosen on "
                         f"{earlier.get('seeds', 'development pairs')}); add --overwrite to replace it")
    typer.echo(described["line"], err=True)
    sampling = calibrate_aligner(aligner, seed, n, steps, cfg, guidance_rescale, temperature=temperature,
                                 group_cfg=groups)
    write_sampling(aligner, sampling)
    typer.echo(json.dumps(sampling, indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(align_app, name="align")
