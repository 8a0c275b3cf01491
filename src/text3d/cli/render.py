"""``text3d render`` and ``text3d points``."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from text3d.assets.io import load_asset
from text3d.cli._options import output_folder, overwrite_option, wait_option, wait_seconds
from text3d.errors import InputError
from text3d.limits import MAX_FRAMES, MAX_POINTS, MAX_RESOLUTION, MIN_RESOLUTION
from text3d.render.cameras import PROTOCOLS
from text3d.render.points import sample_surface_points, write_point_ply
from text3d.render.preview import contact_sheet, turntable_frames, write_gif
from text3d.render.views import render_views
from text3d.store.atomic import write_png
from text3d.store.locks import exclusive, file_lock
from text3d.store.outputs import check_file_output, check_not_input, check_views_output, clear_views

log = logging.getLogger(__name__)


def render_command(
    mesh: Path = typer.Argument(..., help="Mesh file (.glb, .gltf, .obj, .ply, .stl, .off); y-up on disk."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for NNN.png and cameras.json."),
    views: str = typer.Option("canonical4", "--views", help="canonical4, clip8, depth20 or turntable."),
    resolution: int = typer.Option(512, "--resolution", "-r", min=MIN_RESOLUTION, max=MAX_RESOLUTION,
                                   help="Square image size in pixels."),
    background: str = typer.Option("white", "--background", "-b", help="black, white or transparent."),
    depth: bool = typer.Option(False, "--depth", help="Also write depth/NNN.png (uint16, world units x 10000)."),
    normals: bool = typer.Option(False, "--normals", help="Also write normals/NNN.png (world-space)."),
    mask: bool = typer.Option(False, "--mask", help="Also write mask/NNN.png."),
    frames: int = typer.Option(None, "--frames", min=1, max=MAX_FRAMES,
                               help="Frames of the turntable protocol (default 36)."),
    antialias: bool = typer.Option(False, "--antialias", help="4x MSAA (about 2x slower on a CPU)."),
    gif: bool = typer.Option(False, "--gif", help="Also write turntable.gif (36 frames, 256 px)."),
    sheet: bool = typer.Option(False, "--sheet", help="Also write sheet.png, a contact sheet of the views."),
    up: str = typer.Option("y", "--up", help="Up axis of the file: y (glTF/OBJ convention) or z."),
    overwrite: bool = overwrite_option("earlier views"),
    wait: bool = wait_option(),
) -> None:
    """Render a mesh from a standard camera protocol into a folder."""

    _check_up(up)
    if views not in PROTOCOLS:
        raise InputError(f"--views {views!r}: unknown protocol (known: {', '.join(PROTOCOLS)})")
    if background not in ("black", "white", "transparent"):
        raise InputError(f"--background {background!r}: use black, white or transparent")
    if frames is not None and views != "turntable":
        raise InputError(f"--frames {frames}: only --views turntable has frames ({views} has fixed cameras)")
    frames = 36 if frames is None else frames
    check_views_output(out, overwrite)
    asset = load_asset(mesh, up=up).normalized()
    with output_folder(out, wait):
        check_views_output(out, overwrite)
        document = _render(asset, out, views, resolution, background, depth, normals, mask, frames, antialias)
        if gif:
            gif_background = background if background != "transparent" else "white"
            write_gif(out / "turntable.gif", turntable_frames(asset, background=gif_background))
        if sheet:
            import numpy as np
            from PIL import Image

            images = [np.asarray(Image.open(out / v["file"]).convert("RGB")) for v in document["views"]]
            labels = [f"yaw {v['yaw']:.0f} pitch {v['pitch']:.0f}" for v in document["views"]]
            sheet_image = contact_sheet(images, labels, columns=min(len(images), 8), cell=min(resolution, 256))
            write_png(out / "sheet.png", sheet_image)
    typer.echo(f"wrote {len(document['views'])} {views} views of {mesh} to {out}")


def _check_up(up: str) -> None:
    if up not in ("y", "z"):
        raise InputError(f"--up {up!r}: use y or z")


def _render(asset, out: Path, views: str, resolution: int, background: str, depth: bool, normals: bool,
            mask: bool, frames: int, antialias: bool) -> dict:
    """Render into ``out``, first removing the view files of an earlier render there (``--overwrite``);
    the user's own files there stay."""
    clear_views(out)
    return render_views(asset, out, views, resolution, background, depth, normals, mask, frames,
                        antialias=antialias)


def points_command(
    mesh: Path = typer.Argument(..., help="Mesh file; y-up on disk."),
    out: Path = typer.Option(..., "--out", "-o", help="Output .ply point cloud (y-up, with normals and colors)."),
    n: int = typer.Option(4000, "--n", min=1, max=MAX_POINTS, help="Number of points after farthest point sampling."),
    resolution: int = typer.Option(256, "--resolution", "-r", min=MIN_RESOLUTION, max=MAX_RESOLUTION,
                                   help="Size of each of the 20 depth views."),
    up: str = typer.Option("y", "--up", help="Up axis of the input file: y or z."),
    overwrite: bool = overwrite_option("an existing file"),
    wait: bool = wait_option(),
) -> None:
    """Sample a point cloud: depth20 views → back-projection → farthest point sampling."""

    _check_up(up)
    if out.suffix.lower() != ".ply":
        raise InputError(f"--out {out}: the point cloud is written as PLY; use a .ply name")
    check_not_input(out, [mesh])
    check_file_output(out, overwrite=overwrite)
    asset = load_asset(mesh, up=up).normalized()
    with exclusive(file_lock(out), str(out), wait_seconds(wait)):
        check_file_output(out, overwrite=overwrite)
        cloud = sample_surface_points(asset, n_points=n, resolution=resolution)
        write_point_ply(out, cloud["points"], cloud["normals"], cloud["colors"])
    got = len(cloud["points"])
    if got < n:  # the depth20 views at this resolution see fewer surface pixels than asked for
        log.warning("--n %d: the views at --resolution %d saw %d surface points; wrote all of them (a higher "
                    "--resolution sees more)", n, resolution, got)
    typer.echo(f"wrote {got} points of {mesh} to {out}")


def register(app: typer.Typer) -> None:
    app.command("render")(render_command)
    app.command("points")(points_command)
