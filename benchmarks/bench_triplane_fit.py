"""Benchmark: how well one triplane (C 16, R 32, texture split 8) reproduces toyworld objects when
fitted to their renders by dual rendering (text3d.triplane.fit), i.e. TriplaneTurbo's
supervision path with a perfect teacher.

Development-range objects (seeds 1,000,000 + k); 12 training views at 32² (yaw every 45° at
pitch 30°, three at −20°, one from above), 4 held-out views (yaw 22.5° + 90°k, pitch 15°).
Figures on the held-out views, text3d's OpenGL renderer of the extracted 48³ mesh against the
object's own render: silhouette IoU and PSNR, for the fitted triplane and, as the baseline in
the same run, the unfitted field (the sphere prior). One torch thread; seconds per fit.

    .venv/bin/python benchmarks/bench_triplane_fit.py [--renderers both|volume|mesh] [categories ...]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch


def scores(asset, reference, cameras) -> tuple[float, float]:
    """(mean silhouette IoU, PSNR in dB) of ``asset``'s renders against ``reference`` (a RenderResult)."""
    from text3d.render.renderer import render

    out = render(asset, cameras)
    iou = np.mean([(a & b).sum() / max(1, (a | b).sum()) for a, b in zip(out.mask, reference.mask)])
    mse = np.mean((out.rgb.astype(np.float64) - reference.rgb.astype(np.float64)) ** 2)
    return float(iou), float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12)))


def main(categories: list[str], renderers: str = "both") -> None:
    from text3d.data.toyworld.instance import make_object
    from text3d.render.cameras import Camera, protocol_cameras
    from text3d.render.renderer import render
    from text3d.triplane import TriplaneConfig, TriplaneField, extract_asset
    from text3d.triplane.fit import FitConfig, fit_views

    torch.set_num_threads(1)
    train = protocol_cameras("clip8", 32) + [Camera(yaw=y, pitch=-20, resolution=32) for y in (0, 120, 240)] \
        + [Camera(yaw=0, pitch=85, resolution=32)]
    held_out = [Camera(yaw=22.5 + 90 * k, pitch=15, resolution=32) for k in range(4)]
    print(f"{'object':<22} {'IoU prior':>9} {'IoU fit':>8} {'PSNR prior':>10} {'PSNR fit':>9} {'s/fit':>6}")
    rows = []
    for k, category in enumerate(categories):
        seed = 1_000_000 + k
        asset = make_object(category, seed).to_asset()
        target = render(asset, train)
        reference = render(asset, held_out)
        torch.manual_seed(seed)
        field = TriplaneField(TriplaneConfig(channels=16, resolution=32, texture_channels=8))
        planes = field.init_planes(1)
        with torch.no_grad():
            prior = scores(extract_asset(field, planes, 48), reference, held_out)
        start = time.perf_counter()
        fit_views(field, planes, train, torch.from_numpy(target.rgb).float() / 255.0,
                  torch.from_numpy(target.mask).float(), FitConfig(renderers=renderers))
        seconds = time.perf_counter() - start
        with torch.no_grad():
            fitted = scores(extract_asset(field, planes.detach(), 48), reference, held_out)
        rows.append((prior, fitted))
        print(f"{category + ' ' + str(seed):<22} {prior[0]:9.3f} {fitted[0]:8.3f} {prior[1]:10.1f} {fitted[1]:9.1f} "
              f"{seconds:6.0f}")
    prior_iou, fit_iou = np.mean([r[0][0] for r in rows]), np.mean([r[1][0] for r in rows])
    prior_psnr, fit_psnr = np.mean([r[0][1] for r in rows]), np.mean([r[1][1] for r in rows])
    print(f"{'mean':<22} {prior_iou:9.3f} {fit_iou:8.3f} {prior_psnr:10.1f} {fit_psnr:9.1f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    mode = "both"
    if args[:1] == ["--renderers"]:
        mode, args = args[1], args[2:]
    print(f"renderers: {mode}")
    main(args or ["chair", "airplane", "mug", "pine_tree"], mode)
