"""Benchmark: the triplane renderers at 32² and 64² on the CPU (4 canonical views, one field).

Default :class:`TriplaneConfig` (C 16, R 32, MLP 2×32), planes N(0, 0.1²) over the sphere prior.
Per view, medians of 5 runs, one torch thread:

* volume rendering (64 samples/ray, normals) without gradients, and forward + backward;
  baselines: the same forward + backward without skipping empty intervals, and a plain NeuS
  graph (every sample, normals from autograd, i.e. double backward through ``grid_sample``)
  instead of central differences at the intervals of weight > 1e-3 only;
* mesh rendering (48³ marching cubes) forward + backward; baseline: text3d's OpenGL renderer
  drawing the extracted mesh (no gradients);
* extraction: 64³ marching cubes to an Asset, then GLB bytes; and the 64³ SDF lattice of a wrinkled
  field (decoder perturbed, several parts) decoded near the surface only (the embedded-turbo
  backend's) against the full lattice, with whether their meshes agree.

    .venv/bin/python benchmarks/bench_triplane.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_seconds  # noqa: E402


def main() -> None:
    from text3d.assets.io import asset_to_glb_bytes
    from text3d.render.cameras import protocol_cameras
    from text3d.render.renderer import render
    from text3d.triplane import (
        TriplaneConfig,
        TriplaneField,
        extract_asset,
        march,
        narrow_band_sdf_grid,
        render_mesh,
        render_volume,
        volume,
    )

    torch.set_num_threads(1)
    torch.manual_seed(0)
    field = TriplaneField()
    planes = field.init_planes(1, std=0.1)
    trainable = planes.clone().requires_grad_(True)

    def autograd_gradient(p, points, eps=None):
        points = points.detach().requires_grad_(True)
        sdf = field.sdf(p, points)
        return torch.autograd.grad(sdf.sum(), points, create_graph=True)[0]

    asset = extract_asset(field, planes, 48)
    threshold = volume.NORMAL_MIN_WEIGHT
    for size in (32, 64):
        cams = protocol_cameras("canonical4", size)
        per_view = len(cams)

        def volume_infer(cams=cams):
            with torch.no_grad():
                render_volume(field, planes, cams)

        def volume_train(cams=cams, skip=True):
            out = render_volume(field, trainable, cams, skip=skip)
            (out.rgb.mean() + out.normals.mean()).backward()

        def mesh_train(cams=cams):
            out = render_mesh(field, trainable, cams, resolution=48)
            (out.rgb.mean() + out.opacity.mean()).backward()

        infer, _ = median_seconds(volume_infer, repeats=5, warmup=1)
        train, _ = median_seconds(volume_train, repeats=5, warmup=1)
        train_full, _ = median_seconds(lambda cams=cams: volume_train(cams, skip=False), repeats=3, warmup=1)
        field.sdf_gradient = autograd_gradient  # baseline: double backward at every sample
        volume.NORMAL_MIN_WEIGHT = -1.0
        train_base, _ = median_seconds(lambda cams=cams: volume_train(cams, skip=False), repeats=3, warmup=1)
        volume.NORMAL_MIN_WEIGHT = threshold
        del field.sdf_gradient
        mesh, _ = median_seconds(mesh_train, repeats=5, warmup=1)
        gl, _ = median_seconds(lambda cams=cams: render(asset, cams), repeats=5, warmup=1)
        ms = lambda s, n=per_view: f"{1000 * s / n:7.1f} ms/view"  # noqa: E731
        print(f"{size}²: volume no-grad {ms(infer)} | volume fwd+bwd {ms(train)}; without skipping "
              f"{ms(train_full)} (×{train_full / train:.1f}); plain NeuS graph, autograd normals at every sample "
              f"{ms(train_base)} (×{train_base / train:.1f})")
        print(f"{size}²: mesh fwd+bwd {ms(mesh)} (OpenGL render of the mesh, no gradients: {ms(gl)}, "
              f"ratio ×{mesh / gl:.1f})")
    extract, _ = median_seconds(lambda: asset_to_glb_bytes(extract_asset(field, planes, 64)), repeats=5, warmup=1)
    print(f"extraction 64³ + GLB: {1000 * extract:.1f} ms ({asset.n_faces} faces at 48³)")
    wrinkled = TriplaneField(TriplaneConfig(channels=8, resolution=32, texture_channels=4))
    with torch.no_grad():
        for parameter in wrinkled.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
        rough = wrinkled.init_planes(1, std=0.3)
        full, _ = median_seconds(lambda: wrinkled.sdf_grid(rough, 64), repeats=5, warmup=1)
        band, _ = median_seconds(lambda: narrow_band_sdf_grid(wrinkled, rough, 64), repeats=5, warmup=1)
        a = march(wrinkled, rough, 64, wrinkled.sdf_grid(rough, 64)[0])
        b = march(wrinkled, rough, 64, narrow_band_sdf_grid(wrinkled, rough, 64))
    same = torch.equal(a.faces, b.faces) and bool((a.vertices - b.vertices).abs().max() < 1e-5)
    print(f"64³ SDF lattice: full {1000 * full:.1f} ms | narrow band {1000 * band:.1f} ms (×{full / band:.1f} "
          f"faster; same mesh: {same}, {len(a.faces)} faces)")


if __name__ == "__main__":
    main()
