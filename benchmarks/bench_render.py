"""Benchmark: 4 canonical views at 512² of a 50k-face vertex-colored mesh.

text3d's renderer (moderngl on EGL, Mesa llvmpipe on a CPU) against pyrender on OSMesa
rendering the same mesh from the same cameras in the same run, both with the same number of
llvmpipe threads (the one text3d's renderer chooses, or LP_NUM_THREADS); then the peak memory
of ``text3d render`` on that mesh. Targets: ≤ 0.15 s for the 4 views and ≥ 3× pyrender's
speed (median wall time), ≤ 1 GB peak. The CPU time of the whole process (all threads) per
4 views is printed beside: on a busy machine the wall-time ratio drifts towards the CPU-time
ratio, since both renderers then wait for cores.

    bash scripts/setup-bench.sh && .venv/bin/python benchmarks/bench_render.py
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")  # before anything imports OpenGL

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import peak_rss_of_command  # noqa: E402


def median_wall_and_cpu(fn, repeats: int = 15, warmup: int = 2) -> tuple[float, float]:
    """(median wall s, median process CPU s over all threads) of ``fn`` after ``warmup`` calls."""
    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), cpu()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu() - start_cpu)
    return statistics.median(walls), statistics.median(cpus)


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
        results[label] = median_wall_and_cpu(
            lambda kw=kwargs: renderer.render(asset, cameras, background="white", **kw), repeats=15)
    os.environ["LP_NUM_THREADS"] = renderer.threads  # pyrender's OSMesa context starts after ours
    try:
        base, base_cpu = median_wall_and_cpu(pyrender_baseline(asset, cameras), repeats=15)
    except Exception as exc:  # report a missing baseline, still print our figures
        base = base_cpu = None
        print(f"pyrender/OSMesa baseline unavailable: {type(exc).__name__}: {exc} (run scripts/setup-bench.sh)")

    print(f"llvmpipe threads: {renderer.threads} for both; {len(os.sched_getaffinity(0))} cores")
    print(f"{'renderer':34s} {'median s (4 views)':>18s} {'ms/view':>8s} {'vs pyrender':>12s} "
          f"{'CPU s':>7s} {'CPU vs pyrender':>16s}")
    for name, (seconds, cpu_s) in results.items():
        ratio = f"{base / seconds:.2f}x faster" if base else "n/a"
        cpu_ratio = f"{base_cpu / cpu_s:.2f}x less" if base else "n/a"
        print(f"{name:34s} {seconds:18.4f} {seconds / 4 * 1000:8.1f} {ratio:>12s} {cpu_s:7.4f} {cpu_ratio:>16s}")
    if base:
        print(f"{'pyrender 0.1.45 on OSMesa (no MSAA)':34s} {base:18.4f} {base / 4 * 1000:8.1f} {'1.00x':>12s} "
              f"{base_cpu:7.4f} {'1.00x':>16s}")
    target, _ = results["text3d (default, no MSAA)"]
    print(f"target ≤ 0.150 s: {'PASS' if target <= 0.15 else 'FAIL'} ({target:.4f} s)")
    if base:
        print(f"target ≥ 3x pyrender: {'PASS' if base / target >= 3.0 else 'FAIL'} ({base / target:.2f}x)")
    print(f"peak memory of `text3d render` (child process): {peak_mb:.0f} MB "
          f"(target ≤ 1024 MB: {'PASS' if peak_mb <= 1024 and code == 0 else 'FAIL'})")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
