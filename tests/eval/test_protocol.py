"""The evaluation protocol on small run folders built from trimesh primitives."""

import json
import shutil

import numpy as np
import pytest

from tests.encoders.tiny_models import save_tiny_clip, save_tiny_dinov2, save_tiny_pointnet2
from tests.eval.runs import COLORS, make_run
from text3d.encoders import FeatureExtractor, create_extractor, extractors
from text3d.errors import InputError
from text3d.eval import metrics as M
from text3d.eval.features import read_rgb
from text3d.eval.protocol import EvalOptions, evaluate_run
from text3d.eval.report import write_reports
from text3d.store.folders import AssetFolder

GEN_SPECS = [("box", "red"), ("sphere", "green"), ("cylinder", "blue"), ("box", "yellow")]
REF_SPECS = [("box", "red"), ("sphere", "blue"), ("cylinder", "green"), ("sphere", "yellow"), ("box", "purple")]
NAMES = ("dinov2-vitl14", "clip-vit-large-patch14", "pointnet2")


@extractors.register("test-color-oracle")
class ColorOracle(FeatureExtractor):
    """Joint image/text space of colours: an image ↦ mean colour of its non-white pixels, a text
    ↦ the RGB of the colour word it names. Lets the tests know which prompt each asset matches."""

    name = "test-color-oracle"
    modalities = frozenset({"image", "text"})
    dim = 3
    joint_space = True

    def __init__(self, weights=None, device=None):
        self.weights_id = "oracle-v1"

    def image_features(self, images):
        rows = []
        for image in images:
            pixels = image.reshape(-1, 3).astype(np.float32)
            fg = pixels[pixels.min(axis=1) < 250]
            rows.append(fg.mean(0) / 255.0 if len(fg) else np.zeros(3))
        return np.array(rows, np.float32)

    def text_features(self, texts):
        return np.array([next(COLORS[w] for w in t.split() if w in COLORS) for t in texts], np.float32)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights")
    return {"dinov2-vitl14": str(save_tiny_dinov2(root / "dino")),
            "clip-vit-large-patch14": str(save_tiny_clip(root / "clip")),
            "pointnet2": str(save_tiny_pointnet2(root / "pn.pth"))}


def options(weights, names=NAMES, **kwargs):
    base = {"extractors": names, "weights": {n: weights[n] for n in names if n in weights}, "resolution": 32,
            "point_resolution": 64, "device": "cpu"}
    base.update(kwargs)
    return EvalOptions(**base)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, weights):
    root = tmp_path_factory.mktemp("runs")
    gen = make_run(root / "gen", GEN_SPECS, name="gemma3:12b", failed=1)
    ref = make_run(root / "ref", REF_SPECS, captions=False)
    result = evaluate_run(gen, root / "out", ref, options(weights))
    write_reports(result, root / "out")
    return root, gen, ref, result


def test_full_protocol_writes_every_metric_and_file(evaluated):
    root, gen, ref, result = evaluated
    m = json.loads((root / "out" / "metrics.json").read_text())
    assert m == result.metrics
    for key in ("fd_dinov2-vitl14", "kd_dinov2-vitl14", "fd_clip-vit-large-patch14", "kd_clip-vit-large-patch14",
                "fd_points_pointnet2", "clip_user", "clip_aug", "clip_delta", "r_at_1"):
        assert isinstance(m[key], float), key
    assert m["r_at_5"] is None and m["r_at_10"] is None  # among 4 prompts they cannot fail
    assert m["n_items"] == 4 and m["n_reference"] == 5  # the failed item is skipped, and said so
    assert m["n_failed"] == 1 and "1 of 5 items of the generated run failed" in m["warnings"][0]
    assert "(first: boom)" in m["warnings"][0]
    assert "(and 1 failed or unfinished, not evaluated)" in (root / "out" / "report.md").read_text()
    assert set(m["fd_per_asset"]) == {"mean", "std", "min", "max"}
    assert m["system"] == "gemma3:12b" and m["family"] == "gemma3"
    assert m["protocol"]["fd_per_asset_extractor"] == "dinov2-vitl14"
    assert m["protocol"]["clip_extractor"] == "clip-vit-large-patch14"
    opts = options({})
    assert (m["protocol"]["n_points"], m["protocol"]["point_resolution"]) == (opts.n_points, opts.point_resolution)
    assert m["protocol"]["view_resolution"] == 32
    assert "views: canonical4 at 32²" in (root / "out" / "report.md").read_text()
    for name in ("report.md", "report.html", "per_item.csv", "fd_per_asset.png", "clip_per_item.png", "latency.png"):
        assert (root / "out" / name).stat().st_size > 0, name
    for run, count in ((gen, 4), (ref, 5)):
        for k in range(count):
            item = AssetFolder(run / "items" / f"item{k:03d}")
            assert item.has_views("canonical4", 32) and item.points_path.exists()
    assert AssetFolder(gen / "items" / "item000").has_views("clip8", 32)
    assert not AssetFolder(ref / "items" / "item000").has_views("clip8")  # reference needs no CLIP views


def test_fd_kd_and_per_asset_fd_match_direct_computation(evaluated, weights):
    _, gen, ref, result = evaluated
    ext = create_extractor("dinov2-vitl14", weights=weights["dinov2-vitl14"], device="cpu")

    def features(run, count):
        return [ext.image_features([read_rgb(p) for p in AssetFolder(run / "items" / f"item{k:03d}")
                                    .view_paths("canonical4")]) for k in range(count)]

    gen_f, ref_f = features(gen, 4), features(ref, 5)
    pooled, reference = np.concatenate(gen_f).astype(np.float64), np.concatenate(ref_f).astype(np.float64)
    assert pooled.shape == (16, 32) and reference.shape == (20, 32)
    m = result.metrics
    assert m["fd_dinov2-vitl14"] == pytest.approx(M.frechet_distance(pooled, reference), abs=2e-6)
    kd = M.kernel_distance(pooled, reference, 100, 1000, 0)
    assert m["kd_dinov2-vitl14"] == pytest.approx(100 * kd.mean, abs=2e-6)
    mu, sigma = reference.mean(0), np.cov(reference, rowvar=False)
    expected = []
    for f in gen_f:  # independent: eigenvalues of the D×D product Σ_a Σ_R
        s = np.cov(f.astype(np.float64), rowvar=False)
        root_trace = np.sum(np.sqrt(np.clip(np.linalg.eigvals(s @ sigma).real, 0, None)))
        expected.append(np.sum((f.mean(0) - mu) ** 2) + np.trace(s) + np.trace(sigma) - 2 * root_trace)
    assert [r.get("fd_asset") for r in result.items] == pytest.approx(expected, rel=1e-4)
    stats = m["fd_per_asset"]
    assert stats["mean"] == pytest.approx(np.mean(expected), rel=1e-4)
    assert stats["std"] == pytest.approx(np.std(expected), rel=1e-3)
    assert stats["min"] == pytest.approx(min(expected), rel=1e-4)


def test_clip_scores_match_direct_computation(evaluated, weights):
    _, gen, _, result = evaluated
    ext = create_extractor("clip-vit-large-patch14", weights=weights["clip-vit-large-patch14"], device="cpu")
    users, augs = [], []
    for k, (shape, color) in enumerate(GEN_SPECS):
        paths = AssetFolder(gen / "items" / f"item{k:03d}").view_paths("clip8")
        views = ext.image_features([read_rgb(p) for p in paths])
        assert len(views) == 8
        prompt, caption = ext.text_features([f"a {color} {shape}",
                                             f"a small {color} {shape} toy with smooth {color} plastic surfaces"])
        users.append(np.mean(M.clip_score(views, np.tile(prompt, (8, 1)))))
        augs.append(np.mean(M.clip_score(views, np.tile(caption, (8, 1)))))
    m = result.metrics
    assert m["clip_user"] == pytest.approx(np.mean(users), abs=1e-4)
    assert m["clip_aug"] == pytest.approx(np.mean(augs), abs=1e-4)
    assert m["clip_delta"] == pytest.approx(np.mean(augs) - np.mean(users), abs=1e-4)


def test_latency_from_meta_timings(evaluated):
    latency = evaluated[3].metrics["latency_s"]
    generate = [2.0, 3.0, 4.0, 5.0]
    assert latency["generate"] == {"mean": 3.5, "median": 3.5, "p95": pytest.approx(np.percentile(generate, 95))}
    totals = [0.5 + 0.1 * k + 2.0 + k for k in range(4)]
    assert latency["total"]["mean"] == pytest.approx(np.mean(totals))


def test_report_files(evaluated):
    out = evaluated[0] / "out"
    report = (out / "report.md").read_text()
    assert "| gemma3:12b |" in report and "Std FD_dinov2-vitl14" in report and "KD (dinov2-vitl14) ×100" in report
    page = (out / "report.html").read_text()
    assert page.count("<div class='item'>") == 4 and page.count("data:image/png;base64,") == 4 + 3
    assert "src='http" not in page and "src=\"http" not in page
    lines = (out / "per_item.csv").read_text().splitlines()
    assert lines[0].startswith("id,prompt,caption") and [line.split(",")[0] for line in lines[1:]] == [
        "item000", "item001", "item002", "item003"]


def test_byte_identical_metrics_and_cache_reuse(evaluated, weights, tmp_path, monkeypatch):
    root, gen, ref, _ = evaluated
    second = evaluate_run(gen, tmp_path / "fresh", ref, options(weights))  # new, empty cache
    assert second.to_json().encode() == (root / "out" / "metrics.json").read_bytes()
    assert second == evaluated[3]

    def refuse(self, *args, **kwargs):
        raise AssertionError("features should come from the cache")

    for cls in {type(create_extractor(n, weights=weights[n], device="cpu")) for n in NAMES}:
        for method in ("image_features", "text_features", "point_features"):
            monkeypatch.setattr(cls, method, refuse)
    assert evaluate_run(gen, tmp_path / "fresh", ref, options(weights)).to_json() == second.to_json()


def test_cache_misses_after_rerender_and_cache_dir_env(tmp_path, weights, monkeypatch):
    gen = make_run(tmp_path / "gen", GEN_SPECS[:2])
    ref = make_run(tmp_path / "ref", REF_SPECS[:3])
    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(tmp_path / "shared-cache"))
    first = evaluate_run(gen, tmp_path / "a", ref, options(weights, names=("dinov2-vitl14",)))
    assert (tmp_path / "shared-cache" / "features" / "dinov2-vitl14").is_dir()
    assert not (tmp_path / "a" / "cache").exists()
    second = evaluate_run(gen, tmp_path / "b", ref, options(weights, names=("dinov2-vitl14",), resolution=40))
    assert AssetFolder(tmp_path / "b" / "derived" / "generated" / "item000").has_views("canonical4", 40)
    assert not AssetFolder(gen / "items" / "item000").has_views("canonical4", 40)  # the run's own views stay
    assert second.metrics["fd_dinov2-vitl14"] != first.metrics["fd_dinov2-vitl14"]
    assert (first.metrics["protocol"]["view_resolution"], second.metrics["protocol"]["view_resolution"]) == (32, 40)


def test_views_of_two_sizes_are_recorded_and_warned(tmp_path):
    """Without --resolution each run's existing views are read as they are: a generated run rendered at
    32² against a reference rendered at 40² is compared, and the protocol says so."""
    specs = [("box", "red"), ("sphere", "green"), ("cylinder", "blue")]
    gen, ref = make_run(tmp_path / "gen", specs), make_run(tmp_path / "ref", specs)
    evaluate_run(gen, tmp_path / "a", None, EvalOptions(extractors=("test-color-oracle",), views="canonical4",
                                                        clip_views="canonical4", resolution=32))
    evaluate_run(ref, tmp_path / "b", None, EvalOptions(extractors=("test-color-oracle",), views="canonical4",
                                                        clip_views="canonical4", resolution=40))
    result = evaluate_run(gen, tmp_path / "out", ref, EvalOptions(extractors=("test-color-oracle",),
                                                                  clip_views="canonical4"))
    assert result.metrics["protocol"]["view_resolution"] == [32, 40]
    assert any("2 sizes (32², 40²)" in w for w in result.warnings)


def test_reference_free_metrics_only(tmp_path, weights):
    gen = make_run(tmp_path / "gen", GEN_SPECS, captions=False, timings=False)
    result = evaluate_run(gen, tmp_path / "out", None, options(weights))
    write_reports(result, tmp_path / "out")
    m = result.metrics
    assert not any(k.startswith(("fd_", "kd_")) for k in m)
    assert "clip_user" in m and "clip_aug" not in m and "latency_s" not in m and "n_reference" not in m
    assert not (gen / "items" / "item000" / "views" / "canonical4").exists()
    assert (tmp_path / "out" / "report.html").exists()


def test_clip_and_r_at_k_pair_each_asset_with_its_own_prompt(tmp_path):
    specs = [("box", "red"), ("sphere", "green"), ("cylinder", "blue"), ("box", "yellow"), ("sphere", "purple")]
    gen = make_run(tmp_path / "gen", specs)
    ref = make_run(tmp_path / "ref", specs[:3])
    result = evaluate_run(gen, tmp_path / "out", ref, EvalOptions(extractors=("test-color-oracle",), resolution=32))
    m = result.metrics
    assert m["r_at_1"] == 100.0 and m["r_at_5"] is None and m["r_at_10"] is None  # among 5 prompts: cannot fail
    assert any("R@5 is null" in w for w in result.warnings)
    assert m["clip_user"] > 90 and m["clip_aug"] == pytest.approx(m["clip_user"], abs=1e-6)
    assert "fd_test-color-oracle" in m and m["protocol"]["clip_extractor"] == "test-color-oracle"
    # swap two prompts: those assets no longer match their prompts
    rows = [json.loads(line) for line in (gen / "manifest.jsonl").read_text().splitlines()]
    rows[0]["prompt"], rows[1]["prompt"] = rows[1]["prompt"], rows[0]["prompt"]
    (gen / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    swapped = evaluate_run(gen, tmp_path / "out2", ref, EvalOptions(extractors=("test-color-oracle",))).metrics
    assert swapped["r_at_1"] == 60.0 and swapped["clip_user"] < m["clip_user"]


def test_generated_equal_to_reference_gives_zero_fd(tmp_path):
    specs = [("box", "red"), ("sphere", "green"), ("cylinder", "blue"), ("box", "yellow"), ("sphere", "purple")]
    gen = make_run(tmp_path / "gen", specs)
    result = evaluate_run(gen, tmp_path / "out", gen, EvalOptions(extractors=("test-color-oracle",), resolution=32))
    assert abs(result.metrics["fd_test-color-oracle"]) < 1e-6
    # identical sets of m = 20 features with the subsets covering both sets, so the unbiased
    # MMD² reduces to 2/(m(m−1))·(S/m − Tr K): only the diagonal terms keep it from 0
    features = np.concatenate([ColorOracle().image_features([read_rgb(p) for p in AssetFolder(
        gen / "items" / f"item{k:03d}").view_paths("canonical4")]) for k in range(5)]).astype(np.float64)
    kernel = (features @ features.T / 3 + 1) ** 3
    m = len(features)
    expected = 2 / (m * (m - 1)) * (kernel.sum() / m - np.trace(kernel))
    assert result.metrics["kd_test-color-oracle"] == pytest.approx(100 * expected, abs=2e-6)


def test_input_errors(tmp_path, weights):
    gen = make_run(tmp_path / "gen", GEN_SPECS[:2])
    with pytest.raises(InputError, match="unknown .*'nosuch'.*known: .*dinov2-vitl14"):
        evaluate_run(gen, tmp_path / "out", gen, EvalOptions(extractors=("nosuch",)))
    with pytest.raises(InputError, match="lack canonical4 views"):
        evaluate_run(gen, tmp_path / "out", gen, options(weights, names=("dinov2-vitl14",), render_missing=False))
    with pytest.raises(InputError, match="not a run folder"):
        evaluate_run(tmp_path / "nothing", tmp_path / "out", None, options(weights))
    with pytest.raises(InputError, match="not among --extractors"):
        evaluate_run(gen, tmp_path / "out", gen, EvalOptions(extractors=("dinov2-vitl14",),
                                                             weights={"pointnet2": weights["pointnet2"]}))
    with pytest.raises(InputError, match="joint image-text"):
        evaluate_run(gen, tmp_path / "out", None, options(weights, names=("dinov2-vitl14",)))
    shutil.rmtree(gen / "items" / "item001")
    with pytest.raises(InputError, match="item001 has no asset.glb"):
        evaluate_run(gen, tmp_path / "out", gen, options(weights, names=("dinov2-vitl14",)))


def test_extractors_are_loaded_one_at_a_time(tmp_path, weights, monkeypatch):
    import weakref

    from text3d.eval import protocol

    gen = make_run(tmp_path / "gen", GEN_SPECS[:3])
    alive = []
    real = protocol.create_extractor

    def tracking(name, weights=None, device=None):
        assert all(ref() is None for ref in alive), "the previous extractor is still in memory"
        extractor = real(name, weights=weights, device=device)
        alive.append(weakref.ref(extractor))
        return extractor

    monkeypatch.setattr(protocol, "create_extractor", tracking)
    evaluate_run(gen, tmp_path / "out", gen, options(weights, names=("dinov2-vitl14", "test-color-oracle")))
    assert len(alive) == 2
