"""Every metric against an independent computation on fixed data."""

import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from text3d.eval import metrics as M


def gaussian_sets(n=600, d=12, seed=0, shift=0.0, scale=1.0):
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((d, d)) / np.sqrt(d)
    a = rng.standard_normal((n, d)) @ mix
    b = (rng.standard_normal((n, d)) @ mix) * scale + shift
    return a, b


def fd_by_eigenvalues(a, b):
    """Independent FD: Tr (Σ1Σ2)^½ = Σ √λ(Σ1^½ Σ2 Σ1^½), symmetric square roots by eigh."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root1 @ s2 @ root1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.sum(np.sqrt(np.clip(inner, 0, None))))


def test_fd_matches_independent_formula_and_is_symmetric():
    a, b = gaussian_sets(scale=1.7, shift=0.3)
    fd = M.frechet_distance(a, b)
    assert fd == pytest.approx(fd_by_eigenvalues(a, b), rel=1e-9)
    assert M.frechet_distance(b, a) == pytest.approx(fd, rel=1e-9)
    assert fd > 1.0


def test_fd_of_a_set_with_itself_is_zero():
    a, _ = gaussian_sets(n=400, d=32)
    assert abs(M.frechet_distance(a, a)) < 1e-6


def test_fd_closed_forms_shift_and_scale():
    a, _ = gaussian_sets(d=8)
    shift = np.arange(8) * 0.25
    assert M.frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-8)
    # b = 2a: Tr Σ + 4 Tr Σ − 2 Tr (4Σ²)^½ = Tr Σ, plus ‖μ‖² from the doubled mean
    trace = np.trace(np.cov(a, rowvar=False))
    mean = a.mean(0)
    assert M.frechet_distance(a, 2 * a) == pytest.approx(trace + mean @ mean, rel=1e-8)


def test_fd_retries_with_offset_when_root_is_not_finite(monkeypatch):
    a, b = gaussian_sets(d=6)
    calls = []
    real = scipy.linalg.sqrtm

    def flaky(matrix):
        calls.append(matrix.copy())
        return np.full_like(matrix, np.nan) if len(calls) == 1 else real(matrix)

    monkeypatch.setattr(M.scipy.linalg, "sqrtm", flaky)
    value = M.frechet_distance(a, b)
    assert len(calls) == 2
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    offset = np.eye(6) * 1e-6
    np.testing.assert_allclose(calls[1], (s1 + offset) @ (s2 + offset))
    assert value == pytest.approx(fd_by_eigenvalues(a, b), abs=1e-4)


def test_fd_rejects_large_imaginary_components(monkeypatch):
    a, b = gaussian_sets(d=4)
    monkeypatch.setattr(M.scipy.linalg, "sqrtm", lambda m: np.eye(len(m)) * (1 + 0.01j))
    with pytest.raises(ValueError, match="imaginary"):
        M.frechet_distance(a, b)
    monkeypatch.setattr(M.scipy.linalg, "sqrtm", lambda m: np.eye(len(m)) * (1 + 1e-5j))
    assert np.isfinite(M.frechet_distance(a, b))


def test_fd_few_samples_equals_full_formula():
    rng = np.random.default_rng(3)
    ref = rng.standard_normal((500, 3)) @ np.array([[1, 0.3, 0], [0, 1, 0.2], [0, 0, 0.5]])
    views = rng.standard_normal((8, 3)) + 0.4  # V > D: full-rank covariance, so plain FD is exact
    mu, sigma = M.mean_and_covariance(ref)
    assert M.frechet_distance_few_samples(views, mu, sigma) == pytest.approx(M.frechet_distance(views, ref), rel=1e-9)


def test_fd_few_samples_rank_deficient_against_eigenvalues_of_the_product():
    rng = np.random.default_rng(4)
    ref = rng.standard_normal((300, 16))
    views = rng.standard_normal((4, 16)) * 2 + 1
    mu, sigma = M.mean_and_covariance(ref)
    s_views = np.cov(views, rowvar=False)
    eig = np.linalg.eigvals(s_views @ sigma)
    trace_root = np.sum(np.sqrt(np.clip(eig.real, 0, None)))
    expected = np.sum((views.mean(0) - mu) ** 2) + np.trace(s_views) + np.trace(sigma) - 2 * trace_root
    assert M.frechet_distance_few_samples(views, mu, sigma) == pytest.approx(expected, rel=1e-8)
    single = M.frechet_distance_few_samples(views[:1], mu, sigma)
    assert single == pytest.approx(np.sum((views[0] - mu) ** 2) + np.trace(sigma), rel=1e-12)


def kd_by_loops(a, b, subsets, size, seed):
    rng = np.random.default_rng(seed)
    m = min(len(a), len(b), size)
    d = a.shape[1]
    def k(x, y):
        return (float(x @ y) / d + 1.0) ** 3
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
        yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
        xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
        values.append(xx + yy - 2 * xy)
    return np.mean(values), np.std(values)


def test_kd_matches_pairwise_loops():
    a, b = gaussian_sets(n=40, d=5, shift=0.5)
    mean, std = M.kernel_distance(a, b[:35], subsets=4, subset_size=20, seed=7)
    exp_mean, exp_std = kd_by_loops(a, b[:35], 4, 20, 7)
    assert mean == pytest.approx(exp_mean, rel=1e-9)
    assert std == pytest.approx(exp_std, rel=1e-9)


def test_kd_blocked_kernel_equals_unblocked(monkeypatch):
    a, b = gaussian_sets(n=120, d=6, shift=0.2)
    full = M.kernel_distance(a, b, subsets=5, subset_size=50)
    monkeypatch.setattr(M, "KERNEL_BLOCK_ELEMENTS", 7 * 120)  # 7-row blocks
    assert M.kernel_distance(a, b, subsets=5, subset_size=50).mean == pytest.approx(full.mean, rel=1e-10)


def test_kd_identical_sets_near_zero_and_shift_positive():
    a, b = gaussian_sets(n=500, d=16, shift=0.0)
    same = M.kernel_distance(a, a, subsets=20, subset_size=200)
    independent = M.kernel_distance(a, b, subsets=20, subset_size=200)  # same distribution, new draws
    shifted = M.kernel_distance(a, a + 1.0, subsets=20, subset_size=200)
    assert shifted.mean > 5.0
    # identical sets: only the small negative bias of subsets sharing rows (k(x, x) in the cross term)
    assert abs(same.mean) < 0.01 * shifted.mean
    assert abs(independent.mean) < 0.01 and abs(independent.mean) < independent.std


def test_kd_seeded_and_subset_size_capped():
    a, b = gaussian_sets(n=50, d=4, shift=0.3)
    assert M.kernel_distance(a, b, 5, 1000, seed=1) == M.kernel_distance(a, b, 5, 1000, seed=1)
    assert M.kernel_distance(a, b, 5, 30, seed=1) != M.kernel_distance(a, b, 5, 30, seed=2)
    assert M.kernel_distance(a, b, 3, 1000, seed=0).mean == pytest.approx(kd_by_loops(a, b, 3, 1000, 0)[0])


def test_clip_score_known_vectors():
    images = np.array([[1.0, 0.0], [1.0, 0.0], [2.0, 2.0], [0.0, -3.0]])
    texts = np.array([[5.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(M.clip_score(images, texts), [100.0, 0.0, 100 / np.sqrt(2), -100.0])


def test_r_precision_hand_built():
    texts = np.eye(4)
    images = np.array([[1.0, 0.1, 0, 0],     # true 0 → rank 0
                       [0.9, 0.5, 0, 0],     # true 1 → text 0 is closer: rank 1
                       [0.0, 0.0, 0.2, 1.0],  # true 2 → rank 1
                       [0.1, 0.2, 0.3, 0.0]])  # true 3 → ranked last (rank 3)
    result = M.r_precision(images, texts, np.array([0, 1, 2, 3]), ks=(1, 2, 3, 4))
    assert result == {1: 0.25, 2: 0.75, 3: 0.75, 4: 1.0}


def test_retrieval_recall_hand_built_and_ties_count_for_the_query():
    database = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    queries = np.array([[1.0, 0.05], [1.0, 0.9], [0.0, 1.0]])
    assert M.retrieval_recall(queries, database, np.array([0, 1, 1]), ks=(1, 2)) == {1: 2 / 3, 2: 2 / 3}
    tied = M.retrieval_recall(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [2.0, 0.0]]), np.array([1]), ks=(1,))
    assert tied == {1: 1.0}
    with pytest.raises(ValueError):
        M.retrieval_recall(queries, database, np.array([0, 1, 3]))


def test_alignment_metrics_known_vectors():
    pred = np.array([[[3.0, 4.0], [0.0, 2.0]]])
    target = np.array([[[3.0, 4.0], [1.0, 0.0]]])
    result = M.alignment_metrics(pred, target)
    assert result["cos"] == pytest.approx((1.0 + 0.0) / 2)
    assert result["mse"] == pytest.approx((0 + 0 + 1 + 4) / 4)
    assert result["norm_ratio"] == pytest.approx((5 / (5 + 1e-8) + 2 / (1 + 1e-8)) / 2)
    zero = M.alignment_metrics(np.zeros((1, 2)), np.ones((1, 2)))
    assert zero["cos"] == 0.0 and zero["norm_ratio"] == 0.0
    groups = M.alignment_metrics_by_group(pred, target, {"cls": slice(0, 1), "patch": slice(1, None)})
    assert groups["cls"]["cos"] == pytest.approx(1.0) and groups["patch"]["mse"] == pytest.approx(2.5)


def test_correlations_against_formulas():
    x = np.array([29.88, 29.60, 29.19, 27.35, 30.04, 29.41, 29.62, 29.50])
    y = np.array([532.86, 570.51, 581.75, 624.98, 523.27, 525.82, 526.54, 532.40])
    result = M.correlations(x, y)
    r = np.corrcoef(x, y)[0, 1]
    t = r * np.sqrt((len(x) - 2) / (1 - r * r))
    assert result["pearson_r"] == pytest.approx(r)
    assert result["pearson_p"] == pytest.approx(2 * scipy.stats.t.sf(abs(t), len(x) - 2))
    def rank(v):
        return np.argsort(np.argsort(v)).astype(float)
    assert result["spearman_r"] == pytest.approx(np.corrcoef(rank(x), rank(y))[0, 1])
    assert result["pearson_r"] < -0.8
    assert np.isnan(M.correlations([1, 2], [3, 4])["pearson_r"])
    assert np.isnan(M.correlations([1, 1, 1], [3, 4, 5])["spearman_r"])


def test_summary_and_latency_statistics():
    assert M.summary_statistics(np.array([1.0, 3.0])) == {"mean": 2.0, "std": 1.0, "min": 1.0, "max": 3.0}
    stats = M.latency_statistics(np.arange(1, 21, dtype=float))
    assert stats == {"mean": 10.5, "median": 10.5, "p95": pytest.approx(19.05)}


def test_bad_inputs_raise():
    with pytest.raises(ValueError):
        M.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError):
        M.frechet_distance(np.array([[np.nan, 1.0], [1.0, 2.0]]), np.zeros((3, 2)))
    with pytest.raises(ValueError):
        M.kernel_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError):
        M.clip_score(np.zeros((2, 3)), np.zeros((3, 3)))


def test_fd_with_fewer_samples_than_dimensions_is_exact():
    """N ≤ D makes ΣₐΣ_b singular; FD then comes from the nuclear norm of CₐC_bᵀ, which must
    agree with the V×V eigenvalue route to rounding (sqrtm is only good to ~1e-6 here)."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 64)) * 1.5
    b = rng.standard_normal((5, 64)) + 0.2
    mu_b, sigma_b = M.mean_and_covariance(b)
    exact = M.frechet_distance_few_samples(a, mu_b, sigma_b)
    assert M.frechet_distance(a, b) == pytest.approx(exact, rel=1e-12)
    assert M.frechet_distance(b, a) == pytest.approx(exact, rel=1e-12)
    assert abs(M.frechet_distance(a, a)) < 1e-9
