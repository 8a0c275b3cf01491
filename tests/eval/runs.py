"""Small run folders built from trimesh primitives, following the store/folders.py contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from text3d.assets import Asset, save_asset
from text3d.store.folders import STATUS_DONE, STATUS_FAILED, RunFolder

COLORS = {"red": (0.9, 0.1, 0.1), "green": (0.1, 0.8, 0.2), "blue": (0.1, 0.2, 0.9), "yellow": (0.9, 0.85, 0.1),
          "purple": (0.6, 0.1, 0.7), "orange": (0.95, 0.5, 0.05)}


def primitive(shape: str, color: str) -> Asset:
    if shape == "box":
        mesh = trimesh.creation.box((0.8, 0.5, 0.4))
    elif shape == "sphere":
        mesh = trimesh.creation.icosphere(2, radius=0.45)
    elif shape == "cylinder":
        mesh = trimesh.creation.cylinder(radius=0.25, height=0.9, sections=24)
    else:
        raise ValueError(shape)
    rgba = np.array([*COLORS[color], 1.0])
    return Asset(vertices=mesh.vertices, faces=mesh.faces, vertex_colors=np.tile(rgba, (len(mesh.vertices), 1)))


def make_run(root: Path, specs: list[tuple[str, str]], captions: bool = True, timings: bool = True,
             name: str | None = None, failed: int = 0) -> Path:
    """A run folder with one item per (shape, color); ``failed`` extra items have status failed."""
    run = RunFolder(root)
    if name:
        run.write_config({"name": name})
    rows = []
    for index, (shape, color) in enumerate(specs):
        item_id = f"item{index:03d}"
        folder = run.item(item_id)
        save_asset(primitive(shape, color), folder.asset_path)
        prompt = f"a {color} {shape}"
        caption = f"a small {color} {shape} toy with smooth {color} plastic surfaces" if captions else None
        meta = {"prompt": prompt, "backend": "test", "seed": index}
        if timings:
            meta["timings_s"] = {"augment": 0.5 + 0.1 * index, "generate": 2.0 + index}
        folder.write_meta(meta)
        row = {"id": item_id, "status": STATUS_DONE, "prompt": prompt}
        if caption:
            row["caption"] = caption
        rows.append(row)
    for k in range(failed):
        rows.append({"id": f"zfailed{k}", "status": STATUS_FAILED, "prompt": "broken", "error": "boom"})
    run.manifest.update_many(rows)
    return root
