"""``text3d generate``: one prompt into an asset folder, or a prompt file into a run folder."""

from __future__ import annotations

from pathlib import Path

import typer

from text3d.cli._options import (
    check_llm,
    check_registered,
    executor_option,
    finite_option,
    overwrite_option,
    seed_option,
    wait_option,
    wait_seconds,
)
from text3d.errors import InputError
from text3d.limits import MAX_CANDIDATES, MAX_CFG, MAX_RESOLUTION, MAX_STEPS, MAX_TIMEOUT_S, MIN_RESOLUTION


def generate_command(
    prompt: str = typer.Argument(None, help="Short prompt, e.g. \"small blue sailboat\"."),
    out: Path = typer.Option(..., "--out", "-o", help="Asset folder (one prompt) or run folder (--prompts)."),
    prompts: Path = typer.Option(None, "--prompts", help="File with one prompt per line: batch into a run folder."),
    augment: str = typer.Option("embedded", "--augment",
                                help="embedded, none, llamacpp:TAG_OR_GGUF, ollama:TAG, openai:MODEL, hf:REPO."),
    backend: str = typer.Option("embedded", "--backend",
                                help="embedded, embedded-turbo, procedural, trellis-text, trellis-image, "
                                     "triplaneturbo."),
    model: str = typer.Option(None, "--model", help="Weights of the backend (hub id or local folder)."),
    seed: int = seed_option(help="Random seed (batch item i uses seed + i)."),
    steps: int = typer.Option(None, "--steps", min=1, max=MAX_STEPS,
                              help="Sampling steps (backend default when omitted)."),
    cfg: float = finite_option(None, "--cfg", 0.0, MAX_CFG,
                               "Classifier-free guidance weight (backend default when omitted)."),
    candidates: int = typer.Option(None, "--candidates", min=1, max=MAX_CANDIDATES,
                                   help="Best-of-K, an option of the embedded backend (others refuse it): samples it "
                                        "draws, keeping the one its point encoder finds most like the prompt's "
                                        "category (default 6; 1 = off)."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, cuda:1, mps (default: best available)."),
    resolution: int = typer.Option(512, "--resolution", "-r", min=MIN_RESOLUTION, max=MAX_RESOLUTION,
                                   help="Size of the canonical4 views."),
    gif: bool = typer.Option(None, "--gif/--no-gif", help="Write turntable.gif (one prompt; default: on)."),
    timeout: float = finite_option(None, "--timeout", 0.0, MAX_TIMEOUT_S,
                                   "Seconds an LLM server may take per caption, over all tries (default 60).",
                                   low_open=True),
    overwrite: bool = overwrite_option("an earlier asset"),
    wait: bool = wait_option(),
    conditioning: str = typer.Option("text", "--conditioning",
                                     help="text (the backend's text path) or gap3d (GAP3D: image-encoder tokens "
                                          "generated from the caption condition the backend's image path)."),
    aligner: str = typer.Option(None, "--aligner", help="GAP3D aligner folder (default: the shipped stage-2 one)."),
    as_json: bool = typer.Option(False, "--json", help="Print meta.json on stdout (a batch: its counts)."),
    executor: str = executor_option(),
) -> None:
    """Generate a 3D asset from a prompt: augment, generate, export GLB, render views."""
    import json

    from text3d.runs.pipeline import generate, generate_batch

    if (prompt is None) == (prompts is None):
        raise InputError("give either a PROMPT or --prompts FILE")
    from text3d.generators.base import generators

    check_registered(generators, backend, "--backend")  # before any folder is made or model loaded
    check_llm(augment, "--augment")
    local = generators.get(backend).weights_folder  # a backend of local weights: --model is a folder
    if local is not None:
        from text3d.nn.checkpoint import check_model_path

        check_model_path(model, local, "--model")
    if conditioning == "gap3d":
        from text3d.align.sampling import STAGE2_FOLDER
        from text3d.nn.checkpoint import check_model_path

        check_model_path(aligner, STAGE2_FOLDER, "--aligner")
    if prompts is None and executor != "local":
        raise InputError(f"--executor {executor}: one prompt runs here; an executor spreads a --prompts batch")
    if prompts is not None:
        from text3d.data.prompt_files import read_prompts

        if gif:
            raise InputError("--gif: a --prompts batch writes no turntable.gif (one prompt does)")
        if overwrite:
            raise InputError("--overwrite: a --prompts batch resumes its run folder; give a new --out to start over")

        counts = generate_batch(read_prompts(prompts), out, augment=augment, backend=backend, seed=seed,
                                steps=steps, cfg=cfg, model=model, device=device, resolution=resolution,
                                candidates=candidates, timeout_s=timeout, source=prompts,
                                wait_s=wait_seconds(wait), conditioning=conditioning, aligner=aligner,
                                executor=executor)
        if as_json:
            typer.echo(json.dumps({**counts, "out": str(out)}, indent=2))
        else:
            typer.echo(f"generate: {counts['done']} done, {counts['skipped']} already done, "
                       f"{counts['failed']} failed → {out}")
        if counts["failed"]:
            _show_failures(out)
            raise typer.Exit(1)
        return
    result = generate(prompt, out=out, augment=augment, backend=backend, seed=seed, steps=steps, cfg=cfg,
                      model=model, device=device, resolution=resolution, gif=gif is not False, candidates=candidates,
                      timeout_s=timeout, overwrite=overwrite, wait_s=wait_seconds(wait), conditioning=conditioning,
                      aligner=aligner)
    if as_json:
        typer.echo(json.dumps(result.meta(), indent=2, sort_keys=True, default=str))
    else:
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items())
        typer.echo(f"{result.prompt!r} → {out}/asset.glb ({result.asset.n_faces:,} faces; {stages})")
        typer.echo(f"caption: {result.caption}")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)


def _show_failures(out: Path, shown: int = 3) -> None:
    """The first failed items of the run ``out`` and why, on stderr (manifest.jsonl has them all)."""
    from text3d.store.folders import STATUS_FAILED, RunFolder

    failed = [row for row in RunFolder(out).manifest.rows().values() if row.get("status") == STATUS_FAILED]
    for row in failed[:shown]:
        typer.echo(f"  {row.get('id')}: {row.get('error', 'failed')}", err=True)
    if len(failed) > shown:
        typer.echo(f"  … and {len(failed) - shown} more (manifest.jsonl)", err=True)
