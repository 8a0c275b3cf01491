"""Regenerate the pictures under docs/ (run from the repository root).

    .venv/bin/python scripts/make_docs.py toyworld      # docs/toyworld_contact_sheet.png
    .venv/bin/python scripts/make_docs.py generated     # docs/generated_contact_sheet.png + turntable GIF
    .venv/bin/python scripts/make_docs.py paraphrases   # docs/generated_paraphrases_sheet.png
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


def _held_out_prompts(variant: str) -> list[str]:
    """24 held-out instances (24 categories, basic and refined): their prompts or paraphrases."""
    from text3d.data.toyworld.instance import item_spec, make_instance
    from text3d.data.toyworld.style import load_programs
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES

    programs = tuple(c for c in CATEGORY_NAMES if c in load_programs())
    prompts = []
    for i in range(24):
        category, seed = item_spec(i * 2 + 1, 1_000_000, programs)
        instance = make_instance(category, seed, kind="basic" if i % 2 == 0 else "refined")
        prompts.append(instance.prompt if variant == "prompt" else instance.prompts["paraphrase"])
    return prompts


def _generated_contact_sheet(prompts: list[str], path: Path, pipeline) -> Path:
    from text3d.render.cameras import Camera
    from text3d.render.preview import contact_sheet
    from text3d.render.renderer import render

    images = [render(pipeline(prompt, seed=i).asset, [Camera(yaw=35, pitch=25, resolution=128)],
                     antialias=True).rgb[0] for i, prompt in enumerate(prompts)]
    DOCS.mkdir(exist_ok=True)
    sheet = contact_sheet(images, prompts, columns=6, cell=128)
    Image.fromarray(sheet).quantize(colors=256, method=Image.MEDIANCUT).save(path, optimize=True)
    return path


def generated_sheet() -> Path:
    """24 assets of the shipped embedded generator from held-out prompts (24 different
    categories, basic and refined), seen from the same camera, labelled with the prompt; and
    the README's turntable of "small blue sailboat"."""
    from text3d.render.preview import turntable_frames, write_gif
    from text3d.runs.pipeline import Pipeline

    pipeline = Pipeline(backend="embedded", augment="embedded")
    path = _generated_contact_sheet(_held_out_prompts("prompt"), DOCS / "generated_contact_sheet.png", pipeline)
    sailboat = pipeline("small blue sailboat", seed=0).asset
    write_gif(DOCS / "generated_turntable.gif", turntable_frames(sailboat, frames=36, resolution=256))
    return path


def paraphrase_sheet() -> Path:
    """The same 24 instances asked for with their paraphrases (words no training text has),
    through the embedded augmenter's grounding."""
    from text3d.runs.pipeline import Pipeline

    pipeline = Pipeline(backend="embedded", augment="embedded")
    return _generated_contact_sheet(_held_out_prompts("paraphrase"), DOCS / "generated_paraphrases_sheet.png",
                                    pipeline)


if __name__ == "__main__":
    targets = {"toyworld": toyworld_sheet, "generated": generated_sheet, "paraphrases": paraphrase_sheet}
    for name in sys.argv[1:] or list(targets):
        print(f"wrote {targets[name]()}")
