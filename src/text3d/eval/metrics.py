"""Evaluation metrics: pure functions on numpy arrays (no I/O, no models).

Every function states its formula. Inputs are feature matrices with one sample per row;
all arithmetic is float64. The conventions follow the papers the project reproduces: FD as
in pytorch-fid / clean-fid, KD as the unbiased MMD² of Bińkowski et al. with the cubic
polynomial kernel, CLIP score as 100·cos, R@K as a top-K hit rate (PRD / TriplaneTurbo,
Ma et al., 2025), the per-asset FD statistics of the LLM-augmentation study for TRELLIS
pipelines (its Table I), and the per-token alignment metrics of GAP3D (App. C, eqs. 6–8).
Which metric an evaluation computes, and from which features, is declared in
:mod:`text3d.eval.registry`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.stats

log = logging.getLogger(__name__)

FD_OFFSET = 1e-6
"""Added to both covariance diagonals when the matrix square root is not finite."""
FD_MAX_IMAGINARY = 1e-3
"""Largest tolerated |imaginary part| on the diagonal of (Σ₁Σ₂)^½ before FD fails."""
COSINE_EPS = 1e-8
"""ε of GAP3D's per-token cosine and norm ratio."""
KERNEL_BLOCK_ELEMENTS = 16_000_000
"""Kernel-matrix entries computed at once by :func:`kernel_distance` (128 MB in float64)."""


class KernelDistance(NamedTuple):
    """Mean and standard deviation (ddof 0) of the per-subset unbiased MMD² values."""

    mean: float
    std: float


def _as_features(x: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(x, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name}: expected a (N, D) feature matrix, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: features contain NaN or infinite values")
    return array


def mean_and_covariance(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """μ = mean of the rows and Σ = ``np.cov`` (unbiased, N−1) of (N, D) features, float64."""
    features = _as_features(x, "features")
    if len(features) < 2:
        raise ValueError(f"need at least 2 samples for a covariance, got {len(features)}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance_from_statistics(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                                     sigma2: np.ndarray) -> float:
    """FD = ‖μ₁−μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2·Tr (Σ₁Σ₂)^½ (Heusel et al. 2017).

    (Σ₁Σ₂)^½ is ``scipy.linalg.sqrtm``; if it is not finite, both covariances get
    1e-6·I added and the root is recomputed; the real part is kept, and a diagonal
    imaginary component above 1e-3 raises ``ValueError`` (pytorch-fid / clean-fid).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"FD: mismatched statistics {mu1.shape}/{sigma1.shape} vs {mu2.shape}/{sigma2.shape}")
    diff = mu1 - mu2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    for warning in caught:
        if issubclass(warning.category, scipy.linalg.LinAlgWarning):
            log.warning("FD: Σ1Σ2 is singular (fewer samples than feature dimensions?); its root may be inaccurate")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if not np.isfinite(covmean).all():
        log.warning("FD: (Σ1Σ2)^1/2 is not finite; adding %g to the covariance diagonals", FD_OFFSET)
        offset = np.eye(len(sigma1)) * FD_OFFSET
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        worst = float(np.max(np.abs(np.diagonal(covmean).imag)))
        if worst > FD_MAX_IMAGINARY:
            raise ValueError(f"FD: imaginary component {worst:.3g} in (Σ1Σ2)^1/2 exceeds {FD_MAX_IMAGINARY}")
        covmean = covmean.real
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean)
    return float(value)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between the Gaussians fitted to feature sets a (N₁, D) and b (N₂, D).

    FD = ‖μₐ−μ_b‖² + Tr Σₐ + Tr Σ_b − 2·Tr (ΣₐΣ_b)^½ with Σ from ``np.cov`` (N−1); see
    :func:`frechet_distance_from_statistics` for the numerical safeguards. Units: squared
    feature units. Symmetric, and 0 for identical sets.
    """
    a, b = _as_features(a, "features a"), _as_features(b, "features b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"FD: feature dimensions differ, {a.shape[1]} vs {b.shape[1]}")
    if min(len(a), len(b)) <= a.shape[1]:
        return _frechet_distance_low_rank(a, b)
    mu_a, sigma_a = mean_and_covariance(a)
    mu_b, sigma_b = mean_and_covariance(b)
    return frechet_distance_from_statistics(mu_a, sigma_a, mu_b, sigma_b)


def _frechet_distance_low_rank(a: np.ndarray, b: np.ndarray) -> float:
    """FD from the samples when ΣₐΣ_b is singular (min(Nₐ, N_b) ≤ D).

    With Cₐ, C_b the centred samples, Σₐ = CₐᵀCₐ/(Nₐ−1) and ΣₐΣ_b has the same non-zero
    eigenvalues as (CₐC_bᵀ)(CₐC_bᵀ)ᵀ/((Nₐ−1)(N_b−1)), so Tr (ΣₐΣ_b)^½ is the nuclear norm
    ‖CₐC_bᵀ‖_* / √((Nₐ−1)(N_b−1)): exact, with no D×D root of a singular matrix (whose
    last digits vary with the BLAS build).
    """
    for name, x in (("a", a), ("b", b)):
        if len(x) < 2:
            raise ValueError(f"FD: features {name} need at least 2 samples for a covariance, got {len(x)}")
    ca, cb = a - a.mean(axis=0), b - b.mean(axis=0)
    ka, kb = len(a) - 1.0, len(b) - 1.0
    diff = a.mean(axis=0) - b.mean(axis=0)
    root_trace = float(np.linalg.svd(ca @ cb.T, compute_uv=False).sum()) / np.sqrt(ka * kb)
    return float(diff @ diff + np.sum(ca * ca) / ka + np.sum(cb * cb) / kb - 2.0 * root_trace)


def frechet_distance_few_samples(samples: np.ndarray, ref_mu: np.ndarray, ref_sigma: np.ndarray) -> float:
    """FD between a handful of samples (V, D), V ≪ D, and reference statistics (μ_r, Σ_r).

    Same formula as :func:`frechet_distance`, FD = ‖μ−μ_r‖² + Tr Σ + Tr Σ_r − 2·Tr (ΣΣ_r)^½
    with Σ = CᵀC/(V−1) and C the centred samples, but evaluated exactly through the
    V×V matrix: ΣΣ_r has the same non-zero eigenvalues as the symmetric positive
    semi-definite S = C Σ_r Cᵀ/(V−1), so Tr (ΣΣ_r)^½ = Σᵢ √λᵢ(S). With V views Σ has rank
    ≤ V−1, and a D×D ``sqrtm`` of such a singular product is ill-conditioned; the V×V
    route is exact and costs one (V, D)·(D, D) product. With V = 1, Σ = 0.
    """
    x = _as_features(samples, "samples")
    ref_mu = np.asarray(ref_mu, np.float64)
    ref_sigma = np.asarray(ref_sigma, np.float64)
    diff = x.mean(axis=0) - ref_mu
    value = float(diff @ diff + np.trace(ref_sigma))
    if len(x) < 2:
        return value
    centred = x - x.mean(axis=0)
    scale = 1.0 / (len(x) - 1)
    small = scale * (centred @ ref_sigma @ centred.T)
    eigenvalues = np.linalg.eigvalsh((small + small.T) / 2.0)
    # rank ≤ min(V−1, D): eigenvalues at rounding level are zeros, and their roots would not be
    eigenvalues[eigenvalues <= len(x) * np.finfo(np.float64).eps * max(float(eigenvalues.max()), 0.0)] = 0.0
    trace_sigma = scale * float(np.sum(centred * centred))
    return value + trace_sigma - 2.0 * float(np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))


def _polynomial_kernel(x: np.ndarray, y: np.ndarray, dim: int) -> np.ndarray:
    kernel = x @ y.T
    kernel /= dim
    kernel += 1.0
    return kernel * kernel * kernel


def _kernel_subset_sums(x: np.ndarray, y: np.ndarray, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """For every subset s: Σᵢⱼ mx[i,s]·my[j,s]·k(xᵢ, yⱼ), computed in row blocks of k."""
    dim = x.shape[1]
    rows = max(1, KERNEL_BLOCK_ELEMENTS // max(len(y), 1))
    sums = np.zeros(mx.shape[1], dtype=np.float64)
    for start in range(0, len(x), rows):
        block = _polynomial_kernel(x[start:start + rows], y, dim)
        sums += np.einsum("is,is->s", mx[start:start + rows], block @ my)
    return sums


def _kernel_subset_sums_symmetric(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Σᵢⱼ m[i,s]·m[j,s]·k(xᵢ, xⱼ) for every subset s, from the upper block triangle of k only:
    each diagonal block once, each block above the diagonal twice (k is symmetric)."""
    dim = x.shape[1]
    rows = max(1, KERNEL_BLOCK_ELEMENTS // max(len(x), 1))
    sums = np.zeros(m.shape[1], dtype=np.float64)
    for start in range(0, len(x), rows):
        stop = min(start + rows, len(x))
        block = _polynomial_kernel(x[start:stop], x[start:], dim)  # columns from the block's diagonal on
        own = m[start:stop]
        sums += np.einsum("is,is->s", own, block[:, :stop - start] @ own)
        if stop < len(x):
            sums += 2.0 * np.einsum("is,is->s", own, block[:, stop - start:] @ m[stop:])
    return sums


def kernel_distance(a: np.ndarray, b: np.ndarray, subsets: int = 100, subset_size: int = 1000,
                    seed: int = 0) -> KernelDistance:
    """Kernel distance (KID): unbiased MMD² with k(x, y) = (x·y/D + 1)³, over random subsets.

    For each of ``subsets`` draws, m = min(N₁, N₂, subset_size) rows of a and of b are
    taken without replacement (``numpy.random.default_rng(seed)``, a's indices then b's) and
    MMD²ᵤ = Σ_{i≠j} k(aᵢ,aⱼ)/(m(m−1)) + Σ_{i≠j} k(bᵢ,bⱼ)/(m(m−1)) − 2·Σ_{i,j} k(aᵢ,bⱼ)/m².
    Returns the mean and std (ddof 0) over subsets; GAP3D prints the mean ×100.

    The sums for all subsets at once are 1ₛᵀK1ₛ with K computed once per pair of sets in
    row blocks (half of it for the symmetric within-set kernels), which gives the per-subset
    values without recomputing the kernels of overlapping subsets.
    """
    x, y = _as_features(a, "a"), _as_features(b, "b")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"KD: feature dimensions differ ({x.shape[1]} vs {y.shape[1]})")
    m = min(len(x), len(y), subset_size)
    if m < 2:
        raise ValueError(f"KD: need at least 2 samples per set, got {len(x)} and {len(y)}")
    if subsets < 1:
        raise ValueError(f"KD: subsets must be ≥ 1, got {subsets}")
    rng = np.random.default_rng(seed)
    mx = np.zeros((len(x), subsets))
    my = np.zeros((len(y), subsets))
    for s in range(subsets):  # 0/1 subset indicators; subset s draws a's rows, then b's
        mx[rng.choice(len(x), m, replace=False), s] = 1.0
        my[rng.choice(len(y), m, replace=False), s] = 1.0
    dim = x.shape[1]
    diag_x = (np.einsum("ij,ij->i", x, x) / dim + 1.0) ** 3
    diag_y = (np.einsum("ij,ij->i", y, y) / dim + 1.0) ** 3
    sum_xx = _kernel_subset_sums_symmetric(x, mx) - diag_x @ mx
    sum_yy = _kernel_subset_sums_symmetric(y, my) - diag_y @ my
    sum_xy = _kernel_subset_sums(x, y, mx, my)
    values = (sum_xx + sum_yy) / (m * (m - 1)) - 2.0 * sum_xy / (m * m)
    return KernelDistance(float(np.mean(values)), float(np.std(values)))


def _unit_rows(x: np.ndarray, eps: float = COSINE_EPS) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, eps)


def cosine_similarity_matrix(queries: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """S[i, j] = qᵢ·kⱼ / (‖qᵢ‖‖kⱼ‖) (norms floored at 1e-8), shape (N_q, N_k)."""
    q, k = _as_features(queries, "queries"), _as_features(keys, "keys")
    return _unit_rows(q) @ _unit_rows(k).T


def clip_score(image_emb: np.ndarray, text_emb: np.ndarray) -> np.ndarray:
    """CLIP score per pair: 100·cos(imageᵢ, textᵢ) = 100·⟨iᵢ, tᵢ⟩/(‖iᵢ‖‖tᵢ‖), shape (N,).

    Average over the views of an asset, then over assets, to get the CLIP score the papers report.
    """
    images, texts = _as_features(image_emb, "image_emb"), _as_features(text_emb, "text_emb")
    if images.shape != texts.shape:
        raise ValueError(f"clip_score: paired embeddings must have equal shapes, {images.shape} vs {texts.shape}")
    return 100.0 * np.einsum("ij,ij->i", _unit_rows(images), _unit_rows(texts))


def _recall_at_k(similarity: np.ndarray, true_index: np.ndarray, ks: Iterable[int]) -> dict[int, float]:
    """Fraction of rows whose true column ranks within the top K (rank = #columns strictly more similar)."""
    true_index = np.asarray(true_index, dtype=np.int64)
    if true_index.shape != (similarity.shape[0],):
        raise ValueError(f"true_index must have shape ({similarity.shape[0]},), got {true_index.shape}")
    if len(true_index) and (true_index.min() < 0 or true_index.max() >= similarity.shape[1]):
        raise ValueError("true_index out of range")
    true_scores = similarity[np.arange(len(true_index)), true_index]
    ranks = np.sum(similarity > true_scores[:, None], axis=1)
    return {int(k): float(np.mean(ranks < k)) if len(ranks) else float("nan") for k in ks}


def r_precision(image_emb: np.ndarray, text_emb: np.ndarray, true_index: np.ndarray,
                ks: tuple[int, ...] = (1, 5, 10)) -> dict[int, float]:
    """CLIP R-precision R@K: share of images whose own text is among the K most similar texts.

    For image i, texts are ranked by cos(imageᵢ, textⱼ); rankᵢ = #{j : cos(i, j) > cos(i, true(i))}
    (ties count in the image's favour) and R@K = mean(rankᵢ < K), a fraction in [0, 1].
    """
    return _recall_at_k(cosine_similarity_matrix(image_emb, text_emb), true_index, ks)


def retrieval_recall(queries: np.ndarray, database: np.ndarray, true_index: np.ndarray,
                     ks: tuple[int, ...] = (1, 5, 10)) -> dict[int, float]:
    """Top-K recall of cosine retrieval (GAP3D §5.3): share of queries whose true database
    entry is among the K entries most cosine-similar to it (ties in the query's favour)."""
    return _recall_at_k(cosine_similarity_matrix(queries, database), true_index, ks)


def alignment_metrics(pred: np.ndarray, target: np.ndarray, eps: float = COSINE_EPS) -> dict[str, float]:
    """GAP3D's App. C metrics between generated tokens x̂ and targets x, shape (..., D).

    cos = mean over tokens of x̂·x / max(‖x̂‖‖x‖, ε); mse = mean over tokens and elements of
    (x̂ − x)² (i.e. Σ‖x̂−x‖²/(B·N·D)); norm_ratio = mean over tokens of ‖x̂‖/(‖x‖ + ε).
    Compute CLS, register and patch tokens separately by slicing before the call.
    """
    p, t = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    if p.shape != t.shape or p.ndim < 1:
        raise ValueError(f"alignment_metrics: shapes differ ({p.shape} vs {t.shape})")
    p2, t2 = p.reshape(-1, p.shape[-1]), t.reshape(-1, t.shape[-1])
    norm_p, norm_t = np.linalg.norm(p2, axis=1), np.linalg.norm(t2, axis=1)
    cos = np.einsum("ij,ij->i", p2, t2) / np.maximum(norm_p * norm_t, eps)
    return {"cos": float(np.mean(cos)), "mse": float(np.mean((p2 - t2) ** 2)),
            "norm_ratio": float(np.mean(norm_p / (norm_t + eps)))}


def alignment_metrics_by_group(pred: np.ndarray, target: np.ndarray,
                               groups: Mapping[str, slice]) -> dict[str, dict[str, float]]:
    """:func:`alignment_metrics` for each named token range of (B, N, D) arrays, e.g.
    ``{"cls": slice(0, 1), "register": slice(1, 5), "patch": slice(5, None)}``."""
    return {name: alignment_metrics(np.asarray(pred)[:, part], np.asarray(target)[:, part])
            for name, part in groups.items()}


def correlations(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Pearson r = cov(x, y)/(σₓσᵧ) and Spearman ρ (Pearson of average ranks), with two-sided
    p-values (``scipy.stats``). NaN when fewer than 3 pairs or either input is constant."""
    xs, ys = np.asarray(x, np.float64).ravel(), np.asarray(y, np.float64).ravel()
    if xs.shape != ys.shape:
        raise ValueError(f"correlations: lengths differ ({xs.size} vs {ys.size})")
    nan = float("nan")
    if xs.size < 3 or np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return {"pearson_r": nan, "pearson_p": nan, "spearman_r": nan, "spearman_p": nan, "n": int(xs.size)}
    pearson = scipy.stats.pearsonr(xs, ys)
    spearman = scipy.stats.spearmanr(xs, ys)
    return {"pearson_r": float(pearson.statistic), "pearson_p": float(pearson.pvalue),
            "spearman_r": float(spearman.statistic), "spearman_p": float(spearman.pvalue), "n": int(xs.size)}


def summary_statistics(values: np.ndarray) -> dict[str, float]:
    """{mean, std (ddof 0), min, max} of a 1-D array (the FD columns of the LLM-augmentation study's Table I)."""
    v = np.asarray(values, np.float64).ravel()
    if v.size == 0:
        raise ValueError("summary_statistics of an empty array")
    return {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()), "max": float(v.max())}


def latency_statistics(seconds: np.ndarray) -> dict[str, float]:
    """{mean, median, p95} of per-item durations in seconds (p95: linear interpolation)."""
    v = np.asarray(seconds, np.float64).ravel()
    if v.size == 0:
        raise ValueError("latency_statistics of an empty array")
    return {"mean": float(v.mean()), "median": float(np.median(v)), "p95": float(np.percentile(v, 95))}


def per_asset_fd(asset_features: Sequence[np.ndarray], reference: np.ndarray) -> np.ndarray:
    """FD of each generated asset against the whole reference set, shape (N,) (the per-asset FD
    statistics of the LLM-augmentation study for TRELLIS pipelines, Table I; the study
    publishes no code).

    For asset a with view features Xₐ (V×D) and the reference features R (all views of all
    reference assets): FDₐ = ‖μₐ−μ_R‖² + Tr Σₐ + Tr Σ_R − 2·Tr (ΣₐΣ_R)^½, with Σₐ = cov(Xₐ)
    (N−1). Reference items are not matched to generated ones (FD is a distribution distance),
    so the only per-asset reading of FD is "how far this asset's views sit from the reference
    distribution"; the set-level FD is the same formula with all assets pooled. Σₐ has rank
    ≤ V−1, so the trace of the root is computed exactly through the V×V matrix
    (:func:`frechet_distance_few_samples`) instead of a singular D×D ``sqrtm``. The values are
    dominated by ‖μₐ−μ_R‖² + Tr Σ_R and are therefore larger than the set-level FD, as in the
    study (hundreds, min ≈ 40, max ≈ 1100).
    """
    mu_r, sigma_r = mean_and_covariance(reference)
    return np.array([frechet_distance_few_samples(f, mu_r, sigma_r) for f in asset_features])


def latency_summary(timings: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """{stage: {mean, median, p95}} (seconds) over the items that recorded the stage, stages
    sorted; ``total`` is each item's sum of stages unless a ``total`` stage is recorded."""
    stages: dict[str, list[float]] = {}
    for item in timings:
        for stage, seconds in item.items():
            stages.setdefault(stage, []).append(seconds)
        if item and "total" not in item:
            stages.setdefault("total", []).append(sum(item.values()))
    return {stage: latency_statistics(np.array(values)) for stage, values in sorted(stages.items())}
