"""Benchmark: 4 canonical views at 512² of a 50k-face vertex-colored mesh.

text3d's renderer (moderngl on EGL, Mesa llvmpipe on a CPU) against pyrender on OSMesa
rendering the same mesh from the same cameras in the same run; then the peak memory of
``text3d render`` on that mesh. Target: ≤ 0.15 s for the 4 views, ≤ 1 GB peak.

    bash scripts/setup-bench.sh && .venv/bin/python benchmarks/bench_render.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")  # before anything imports OpenGL

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_seconds, peak_rss_of_command  # noqa: E402


def make_mesh():
    """A bumpy, asymmetric UV sphere with ≈ 50k faces and smooth vertex colors."""
    import trimesh

    from text3d.assets import Asset

    sphere = trimesh.creation.uv_sphere(radius=0.45, count=[100, 126])
    v = np.asarray(sphere.vertices)
    bump = 1.0 + 0.08 * np.sin(7 * v[:, 0]) * np.cos(5 * v[:, 1]) + 0.1 * (v[:, 2] > 0.2)
    v = v * bump[:, None]
    colors = np.concatenate([0.2 + 0.6 * (v - v.min(0)) / np.ptp(v, 0), np.ones((len(v), 1))], axis=1)
    return Asset(vertices=v, faces=sphere.faces, vertex_colors=colors).normalized()


def pyrender_baseline(asset, cameras):
    import pyrender
    import trimesh

    mesh = trimesh.Trimesh(asset.vertices, asset.faces, vertex_colors=(asset.vertex_colors * 255).astype(np.uint8),
                           process=False)
    scene = pyrender.Scene(bg_color=[1.0, 1.0, 1.0, 1.0], ambient_light=[0.3, 0.3, 0.3])
    scene.add(pyrender.Mesh.from_trimesh(mesh, smooth=False))
    cam_node = scene.add(pyrender.PerspectiveCamera(yfov=np.radians(cameras[0].fov)), pose=np.eye(4))
    light_node = scene.add(pyrender.DirectionalLight(intensity=3.0), pose=np.eye(4))
    size = cameras[0].resolution
    renderer = pyrender.OffscreenRenderer(size, size)

    def run():
        for cam in cameras:
            pose = cam.c2w_opengl()
            scene.set_pose(cam_node, pose)
            scene.set_pose(light_node, pose)
            renderer.render(scene)

    return run


def main() -> None:
    from text3d.assets.io import save_asset
    from text3d.render.cameras import protocol_cameras
    from text3d.render.renderer import Renderer

    asset = make_mesh()
    cameras = protocol_cameras("canonical4", 512)
    print(f"mesh: {asset.n_faces:,} faces, {asset.n_vertices:,} vertices; views: canonical4 at 512²")

    workdir = Path(tempfile.mkdtemp(prefix="text3d-bench-"))
    mesh_path = workdir / "mesh.glb"
    save_asset(asset, mesh_path)
    cli = [sys.executable, "-m", "text3d", "render", str(mesh_path), "--out", str(workdir / "views"),
           "--views", "canonical4", "--resolution", "512"]
    peak_mb, code = peak_rss_of_command(cli)

    renderer = Renderer(samples=4)
    results = {}
    for label, kwargs in (("text3d (default, no MSAA)", {}),
                          ("text3d (--antialias, 4x MSAA)", {"antialias": True}),
                          ("text3d (+ depth/normals pass)", {"depth": True, "normals": True})):
        med, _ = median_seconds(lambda kw=kwargs: renderer.render(asset, cameras, background="white", **kw),
                                repeats=15)
        results[label] = med
    try:
        baseline = pyrender_baseline(asset, cameras)
        base, _ = median_seconds(baseline, repeats=15)
    except Exception as exc:  # report a missing baseline, still print our figures
        base = None
        print(f"pyrender/OSMesa baseline unavailable: {type(exc).__name__}: {exc} (run scripts/setup-bench.sh)")

    print(f"{'renderer':44s} {'median s (4 views)':>18s} {'ms/view':>8s} {'vs pyrender':>12s}")
    for name, seconds in results.items():
        ratio = f"{base / seconds:.2f}x faster" if base else "n/a"
        print(f"{name:44s} {seconds:18.4f} {seconds / 4 * 1000:8.1f} {ratio:>12s}")
    if base:
        print(f"{'pyrender 0.1.45 on OSMesa (no MSAA)':44s} {base:18.4f} {base / 4 * 1000:8.1f} {'1.00x':>12s}")
    target = results["text3d (default, no MSAA)"]
    print(f"target ≤ 0.150 s: {'PASS' if target <= 0.15 else 'FAIL'} ({target:.4f} s)")
    print(f"peak memory of `text3d render` (child process): {peak_mb:.0f} MB "
          f"(target ≤ 1024 MB: {'PASS' if peak_mb <= 1024 and code == 0 else 'FAIL'})")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
