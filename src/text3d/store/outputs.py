"""Output paths are checked against their contract before anything is written.

The rules (README "Failure behaviour"):

* the input is never the output;
* an output that already holds other content is refused in one line, or appended to or
  resumed exactly as its command documents (a run folder of the same job resumes, a results
  file of augmentation rows is appended to); replacing an earlier result of the same kind
  needs ``--overwrite``;
* a folder is recognised by its marker files (:func:`folder_kind`), so a single asset never
  goes into a run folder and a batch never into an asset folder.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from text3d.errors import InputError
from text3d.store.locks import LOCK_NAME

MARKERS: dict[str, tuple[str, ...]] = {
    "run": ("manifest.jsonl", "run.yaml"),
    "asset": ("asset.glb", "meta.json"),
    "views": ("cameras.json",),
    "evaluation": ("metrics.json", "cache", "derived"),
}
"""Folder kind → files whose presence marks it, checked in this order (a run folder holding
an evaluation is a run folder). report.md is no marker: the evaluation writes metrics.json first."""

SIGNATURES: dict[str, tuple[str, ...]] = {
    "meta.json": ("prompt", "backend"),
    "cameras.json": ("protocol", "views"),
    "metrics.json": ("protocol", "n_items"),
}
"""Markers with common names, and the keys of text3d's JSON object in them: a user's own
``meta.json`` or ``cameras.json`` does not make a folder text3d's (whose files ``--overwrite``
would then replace)."""

_DESCRIPTION = {
    "run": "a run folder (manifest.jsonl)",
    "asset": "an asset folder (asset.glb, meta.json)",
    "views": "a folder of rendered views (cameras.json)",
    "evaluation": "an evaluation folder (metrics.json)",
    "dangling": "a symbolic link to a path that does not exist",
}


def _is_scratch(name: str) -> bool:
    """Files text3d itself leaves in any folder: its lock and a killed writer's temporaries."""
    return name == LOCK_NAME or (name.startswith(".") and name.endswith((".tmp", ".lock")))


def folder_kind(path: str | Path) -> str:
    """``missing``, ``dangling`` (a symbolic link to nothing), ``file``, ``empty``, one of
    :data:`MARKERS`' kinds, or ``other``."""
    path = Path(path)
    if not path.exists():
        return "dangling" if path.is_symlink() else "missing"
    if not path.is_dir():
        return "file"
    names = {p.name for p in path.iterdir()}
    for kind, markers in MARKERS.items():
        if any(name in names and _marks(path / name) for name in markers):
            return kind
    return "empty" if all(_is_scratch(n) for n in names) else "other"


def is_json_with(path: str | Path, keys: tuple[str, ...]) -> bool:
    """True when ``path`` is a JSON object holding every one of ``keys`` (False for anything unreadable)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and all(key in data for key in keys)


def _marks(path: Path) -> bool:
    """Whether the marker ``path`` is text3d's: its JSON signature (:data:`SIGNATURES`), else its name."""
    keys = SIGNATURES.get(path.name)
    return keys is None or is_json_with(path, keys)


def same_path(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name the same file or folder (links and ``..`` resolved)."""
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_not_input(out: str | Path, inputs: list[str | Path], option: str = "--out") -> None:
    """Refuse an output that is one of the inputs."""
    for source in inputs:
        if source is not None and same_path(out, source):
            raise InputError(f"{option} {out}: is the input {source}; write the result to another path")


def _check_parent(path: Path, option: str) -> None:
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{option} {path}: {parent} is a file, not a folder")
            return


def _other_files(path: Path) -> str:
    names = sorted(p.name for p in path.iterdir() if not _is_scratch(p.name))
    shown = ", ".join(repr(n) for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _refuse(path: Path, kind: str, option: str, wanted: str) -> InputError:
    if kind == "file":
        return InputError(f"{option} {path}: is a file; give a folder for {wanted}")
    if kind == "other":
        return InputError(f"{option} {path}: holds other files ({_other_files(path)}); "
                          f"give a new or empty folder for {wanted}")
    return InputError(f"{option} {path}: is {_DESCRIPTION[kind]}; give a new or empty folder for {wanted}")


def check_output_file_path(path: str | Path, option: str = "--out") -> None:
    """What every file output must be, new or not: under folders (not under a file), not a folder,
    not a symbolic link to nothing, and a regular file if it exists (``/dev/null`` cannot be
    replaced atomically)."""
    path = Path(path)
    _check_parent(path, option)
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder; give a file name")
    if path.is_symlink() and not path.exists():
        raise InputError(f"{option} {path}: is {_DESCRIPTION['dangling']}; give a file name")
    if path.exists() and not path.is_file():
        raise InputError(f"{option} {path}: is not a regular file (a device or pipe); give a file name")


def check_file_output(path: str | Path, option: str = "--out", overwrite: bool = False) -> None:
    """A new file at ``path``; an existing one only with ``overwrite``."""
    path = Path(path)
    check_output_file_path(path, option)
    if path.exists() and not overwrite:
        raise InputError(f"{option} {path}: already exists; pass --overwrite to replace it, or choose another name")


def _check_result_folder(out: Path, own_kind: str, held: str, overwrite: bool) -> str:
    """The rule of a folder that holds one result: new, empty, or an earlier result of
    ``own_kind`` (replaced only with ``overwrite``). Returns the folder's kind."""
    _check_parent(out, "--out")
    kind = folder_kind(out)
    if kind == own_kind and not overwrite:
        raise InputError(f"--out {out}: already holds {held}; pass --overwrite to replace it, or choose another folder")
    return kind


def check_asset_output(out: str | Path, overwrite: bool = False) -> str:
    """An asset folder for one asset: new, empty, or an earlier asset folder with ``overwrite``.
    Returns the folder's kind."""
    out = Path(out)
    kind = _check_result_folder(out, "asset", "an asset (asset.glb, meta.json)", overwrite)
    if kind == "run":
        raise InputError(f"--out {out}: is a run folder (manifest.jsonl); a single asset needs its own folder "
                         "(use --prompts FILE to add to a batch)")
    if kind not in ("missing", "empty", "asset"):
        raise _refuse(out, kind, "--out", "an asset")
    return kind


VIEW_EXTRAS = ("depth", "normals", "mask")
"""Subfolders of a views folder where the renderer writes a per-view image under the view's name."""


def clear_views(folder: str | Path) -> None:
    """Remove the files an earlier render wrote into ``folder`` before ``--overwrite`` renders
    again: cameras.json first, then the view images it lists (also under :data:`VIEW_EXTRAS`),
    turntable.gif and sheet.png. Any other file is the user's and stays; a subfolder left
    empty goes."""
    folder = Path(folder)
    cameras = folder / "cameras.json"
    if not cameras.exists():
        return
    try:
        views = json.loads(cameras.read_text()).get("views", [])
        earlier = [v.get("file") for v in views if isinstance(v, dict)] if isinstance(views, list) else []
    except (OSError, ValueError, AttributeError):
        earlier = []  # an unreadable cameras.json lists nothing to remove; the new render replaces it
    cameras.unlink()
    # only plain names: a hand-edited cameras.json must not point the removal outside the folder
    names = [n for n in earlier if isinstance(n, str) and n.endswith(".png") and Path(n).name == n]
    for name in names:
        (folder / name).unlink(missing_ok=True)
        for extra in VIEW_EXTRAS:
            (folder / extra / name).unlink(missing_ok=True)
    for extra in VIEW_EXTRAS:
        _remove_if_empty(folder / extra)
    for name in ("turntable.gif", "sheet.png"):
        (folder / name).unlink(missing_ok=True)


def _remove_if_empty(folder: Path) -> None:
    """Remove ``folder`` when it exists and holds nothing (nor only text3d's scratch files)."""
    if folder.is_dir() and folder_kind(folder) == "empty":
        shutil.rmtree(folder, ignore_errors=True)


def clear_asset_outputs(folder: str | Path) -> None:
    """Remove an earlier asset's files before ``--overwrite`` writes a new one (meta.json first,
    so a crash in between leaves an incomplete folder, never a mix of two assets). Only the
    files text3d writes go (see :func:`clear_views`); the user's own files stay."""
    folder = Path(folder)
    for name in ("meta.json", "asset.glb", "points.ply", "points.json", "turntable.gif"):
        (folder / name).unlink(missing_ok=True)
    views = folder / "views"
    if views.is_dir():
        for protocol in sorted(p for p in views.iterdir() if p.is_dir() and not p.is_symlink()):
            clear_views(protocol)
            _remove_if_empty(protocol)
        _remove_if_empty(views)


STAGING_PREFIX = ".staging-"
"""Name of the scratch folder (``.staging-<hex>.tmp``) an ``--overwrite`` writes its new asset into."""


def staging_folder(folder: str | Path) -> Path:
    """A new scratch folder inside ``folder`` for a replacement asset, after removing any a killed
    writer left (call it holding the folder's lock)."""
    folder = Path(folder)
    for stale in folder.glob(f"{STAGING_PREFIX}*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    return folder / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}.tmp"


def replace_asset_outputs(staged: str | Path, folder: str | Path) -> None:
    """Move the complete asset folder ``staged`` over the earlier asset in ``folder``: the earlier
    asset's files go first (:func:`clear_asset_outputs`), then the new files are renamed into
    place, meta.json last. Writing, exporting and rendering all happened in ``staged``, so a
    writer killed before this point leaves the earlier asset whole; within it (renames only) the
    folder reads as incomplete (no meta.json), never as a mix of two assets."""
    staged, folder = Path(staged), Path(folder)
    clear_asset_outputs(folder)
    files = sorted(p for p in staged.rglob("*") if p.is_file())
    for path in sorted(files, key=lambda p: p.name == "meta.json" and p.parent == staged):
        target = folder / path.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    shutil.rmtree(staged, ignore_errors=True)


def check_run_output(out: str | Path, option: str = "--out") -> str:
    """A run folder: new, empty, or a run folder (the caller checks that it is the same job)."""
    out = Path(out)
    _check_parent(out, option)
    kind = folder_kind(out)
    if kind not in ("missing", "empty", "run"):
        raise _refuse(out, kind, option, "a run")
    return kind


def check_views_output(out: str | Path, overwrite: bool = False) -> str:
    """A folder of rendered views: new, empty, or earlier views with ``overwrite``."""
    out = Path(out)
    kind = _check_result_folder(out, "views", "rendered views (cameras.json)", overwrite)
    if kind not in ("missing", "empty", "views"):
        raise _refuse(out, kind, "--out", "rendered views")
    return kind


def check_evaluation_output(out: str | Path, generated: str | Path, overwrite: bool = False) -> str:
    """An evaluation folder: new, empty, the evaluated run folder itself (the run-folder
    contract keeps its evaluation beside the manifest), an evaluation that stopped before
    metrics.json (it resumes from its feature cache), or a finished one with ``overwrite``."""
    out = Path(out)
    _check_parent(out, "--out")
    kind = folder_kind(out)
    if kind == "run" and same_path(out, generated) and not ((out / "metrics.json").exists() and not overwrite):
        return kind
    if kind in ("evaluation", "run") and (out / "metrics.json").exists() and not overwrite:
        raise InputError(f"--out {out}: already holds an evaluation (metrics.json); pass --overwrite to "
                         "replace it, or choose another folder")
    if kind not in ("missing", "empty", "evaluation"):
        raise _refuse(out, kind, "--out", "an evaluation")
    return kind


def check_job_output(out: str | Path, known: tuple[str, ...], what: str, option: str = "--out",
                     state: tuple[str, tuple[str, ...]] | None = None) -> None:
    """A folder a resumable job (training, a study, the service) owns: new, empty, or holding only
    the names (glob patterns) in ``known`` — that job's own earlier output, which it resumes. With
    ``state`` = (file, keys), the file the job writes before any other, a folder is the job's only
    when that file is a JSON object with those keys (a user's own ``index.html`` and
    ``settings.json`` are not a localization run's)."""
    out = Path(out)
    _check_parent(out, option)
    kind = folder_kind(out)
    if kind in ("file", "dangling"):
        raise _refuse(out, kind, option, what)
    if kind in ("missing", "empty"):
        return
    foreign = sorted(p.name for p in out.iterdir()
                     if not _is_scratch(p.name) and not any(fnmatch.fnmatch(p.name, k) for k in known))
    if not foreign and state is not None and not is_json_with(out / state[0], state[1]):
        foreign = sorted(p.name for p in out.iterdir() if not _is_scratch(p.name))
    if foreign:
        shown = ", ".join(repr(n) for n in foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise InputError(f"{option} {out}: holds files that are not {what}'s ({shown}); give a new or empty folder")


@contextmanager
def removed_if_failed(folder: str | Path) -> Iterator[None]:
    """Remove ``folder`` again when the block fails and the folder was new and is still empty
    (a failed job leaves no empty output folder behind; anything written stays)."""
    folder = Path(folder)
    new = not folder.exists()
    try:
        yield
    except BaseException:
        if new and folder_kind(folder) == "empty":
            shutil.rmtree(folder, ignore_errors=True)
        raise
