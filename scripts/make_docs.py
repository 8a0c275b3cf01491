"""Regenerate the pictures under docs/ (run from the repository root).

    .venv/bin/python scripts/make_docs.py toyworld      # docs/toyworld_contact_sheet.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

DOCS = Path(__file__).resolve().parent.parent / "docs"


def toyworld_sheet() -> Path:
    """Two instances of every category at 128², labelled with their prompts."""
    from text3d.data.toyworld.instance import make_instance
    from text3d.data.toyworld.style import load_programs
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES
    from text3d.render.cameras import Camera
    from text3d.render.preview import contact_sheet
    from text3d.render.renderer import render

    images, labels = [], []
    for category in [c for c in CATEGORY_NAMES if c in load_programs()]:
        for seed in (0, 1):
            instance = make_instance(category, seed, kind="basic")
            asset = instance.scene().to_asset()
            images.append(render(asset, [Camera(yaw=35, pitch=25, resolution=128)], antialias=True).rgb[0])
            labels.append(instance.prompt)
    sheet = contact_sheet(images, labels, columns=10, cell=128)
    path = DOCS / "toyworld_contact_sheet.png"
    DOCS.mkdir(exist_ok=True)
    Image.fromarray(sheet).quantize(colors=256, method=Image.MEDIANCUT).save(path, optimize=True)
    return path


if __name__ == "__main__":
    targets = {"toyworld": toyworld_sheet}
    for name in sys.argv[1:] or list(targets):
        print(f"wrote {targets[name]()}")
