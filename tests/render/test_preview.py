"""The turntable GIF decodes back to the frames it was written from, on one palette."""

import numpy as np
from PIL import Image, ImageSequence

from text3d.render.preview import gif_palette_frames, turntable_frames, write_gif


def test_gif_round_trips_the_frames(tmp_path, sphere_asset):
    frames = turntable_frames(sphere_asset, frames=6, resolution=48)
    path = write_gif(tmp_path / "t.gif", frames)
    with Image.open(path) as gif:
        decoded = np.stack([np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)])
        assert gif.info["loop"] == 0
    assert decoded.shape == frames.shape
    error = np.abs(decoded.astype(int) - frames.astype(int))
    # a rainbow sphere: 256 colours leave a few levels of banding, nothing more
    assert error.mean() < 4.0 and np.percentile(error, 99) < 48


def test_frames_share_one_palette():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(4, 16, 16, 3), dtype=np.uint8)
    images = gif_palette_frames(frames, sample_every=1)
    palettes = {bytes(im.getpalette()) for im in images}
    assert len(palettes) == 1 and all(im.mode == "P" for im in images)
