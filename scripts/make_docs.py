"""Regenerate the pictures under docs/ (run from the repository root).

    .venv/bin/python scripts/make_docs.py toyworld      # docs/toyworld_contact_sheet.png
    .venv/bin/python scripts/make_docs.py generated     # docs/generated_contact_sheet.png + turntable GIF
    .venv/bin/python scripts/make_docs.py paraphrases   # docs/generated_paraphrases_sheet.png
    .venv/bin/python scripts/make_docs.py gap3d         # docs/gap3d_contact_sheet.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

DOCS = Path(__file__).resolve().parent.parent / "docs"


def toyworld_sheet() -> Path:
    """Two instances of every category at 128², labelled with their prompts."""
    from text3d.data.toyworld.instance import make_instance
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES, load_programs
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
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES, load_programs

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


def gap3d_sheet() -> Path:
    """12 test-range prompts (12 categories, basic and refined) through the embedded generator's
    text path (top row) and through GAP3D's shipped stage-2 aligner (bottom row), same seeds,
    one sample each; the augmenter writes the caption both paths read."""
    from text3d.data.toyworld.instance import item_spec, make_instance
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES, load_programs
    from text3d.render.cameras import Camera
    from text3d.render.preview import contact_sheet
    from text3d.render.renderer import render
    from text3d.runs.pipeline import Pipeline

    programs = tuple(c for c in CATEGORY_NAMES if c in load_programs())
    prompts = []
    for i in range(12):
        category, seed = item_spec(i * 2, 1_900_000, programs)
        prompts.append(make_instance(category, seed, kind="basic" if i % 2 == 0 else "refined").prompt)
    images, labels = [], []
    for conditioning in ("text", "gap3d"):
        pipeline = Pipeline(backend="embedded", augment="embedded", candidates=1, conditioning=conditioning)
        for i, prompt in enumerate(prompts):
            images.append(render(pipeline(prompt, seed=i).asset, [Camera(yaw=35, pitch=25, resolution=128)],
                                 antialias=True).rgb[0])
            labels.append(f"{conditioning}: {prompt}")
    path = DOCS / "gap3d_contact_sheet.png"
    sheet = contact_sheet(images, labels, columns=12, cell=128)
    Image.fromarray(sheet).quantize(colors=256, method=Image.MEDIANCUT).save(path, optimize=True)
    return path


if __name__ == "__main__":
    targets = {"toyworld": toyworld_sheet, "generated": generated_sheet, "paraphrases": paraphrase_sheet,
               "gap3d": gap3d_sheet}
    for name in sys.argv[1:] or list(targets):
        print(f"wrote {targets[name]()}")
