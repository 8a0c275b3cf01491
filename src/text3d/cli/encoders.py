"""``text3d encoders evaluate``: the embedded encoders' study on held-out toyworld."""

from __future__ import annotations

import json

import typer

from text3d.cli._options import command_group
from text3d.limits import MAX_ITEMS, MAX_SEED, MIN_ENCODER_INSTANCES

encoders_app = command_group(help="The embedded encoders.", no_args_is_help=True)


@encoders_app.command("evaluate")
def evaluate_command(
    seed: int = typer.Option(1_000_000, "--seed", min=1_000_000, max=MAX_SEED,
                             help="Held-out base seed: [1,000,000, 1,900,000) development (choose settings "
                                  "here), [1,900,000, 2,000,000) test (report these figures; test word list); "
                                  "training seeds are refused."),
    n: int = typer.Option(2400, "--n", min=MIN_ENCODER_INSTANCES, max=MAX_ITEMS,
                          help="Held-out instances (FD halves and shifted set get n/2 renders each)."),
    image_encoder: str = typer.Option(None, "--image-encoder", help="Folder of an image encoder (default: shipped)."),
    point_encoder: str = typer.Option(None, "--point-encoder", help="Folder of a point encoder (default: shipped)."),
    device: str = typer.Option(None, "--device"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """Print category R@1, color accuracy, text→image R@10, point accuracy and fd_ratio, after the
    range the seeds lie in (``seed_range`` and ``seeds`` in the JSON). Settings are chosen on
    training or development seeds; the figures to report come from the test range."""
    # the encoders and the study import torch: not on the cold path of `text3d --help`
    from text3d.encoders.embedded import EmbeddedImageEncoder, EmbeddedPointEncoder
    from text3d.eval.encoder_quality import evaluate_encoders

    figures = evaluate_encoders(seed, n, EmbeddedImageEncoder.from_pretrained(image_encoder, device),
                                EmbeddedPointEncoder.from_pretrained(point_encoder, device), device)
    if as_json:
        typer.echo(json.dumps(figures, sort_keys=True))
    else:
        typer.echo(figures["seeds"])
        for key, value in figures.items():
            typer.echo(f"{key:36s} {value}")


def register(app: typer.Typer) -> None:
    app.add_typer(encoders_app, name="encoders")
