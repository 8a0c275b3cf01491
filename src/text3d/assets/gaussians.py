"""3D Gaussian splats and the standard 3DGS PLY layout (Kerbl et al. 2023, INRIA viewer).

PLY vertex properties, all float32, binary little-endian, in this order:
``x y z nx ny nz f_dc_0..2 f_rest_0..(3·K−1) opacity scale_0..2 rot_0..3`` where
``f_rest`` is stored channel-major (all R coefficients, then G, then B), ``opacity`` is a
logit, ``scale_*`` are log standard deviations and ``rot`` is a (w, x, y, z) quaternion.
Positions and rotations are y-up on disk, z-up in memory (see :mod:`text3d.assets.io`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from text3d.assets.io import Y_UP
from text3d.errors import InputError
from text3d.store.atomic import write_atomic

SH_C0 = 0.28209479177387814
"""Zeroth spherical-harmonic basis constant: color = 0.5 + SH_C0 · f_dc."""


@dataclass
class GaussianSplats:
    """N Gaussians: means (N,3), log-scales (N,3), unit quaternions wxyz (N,4),
    opacity logits (N,), SH DC (N,3) and higher SH coefficients (N, K, 3)."""

    means: np.ndarray
    log_scales: np.ndarray
    rotations: np.ndarray
    opacity_logits: np.ndarray
    sh_dc: np.ndarray
    sh_rest: np.ndarray

    @property
    def count(self) -> int:
        return int(len(self.means))

    def colors(self) -> np.ndarray:
        """Base RGB colors from the DC term: clip(0.5 + SH_C0·f_dc, 0, 1)."""
        return np.clip(0.5 + SH_C0 * self.sh_dc, 0.0, 1.0)

    def opacities(self) -> np.ndarray:
        """σ(logit) in (0, 1)."""
        return 1.0 / (1.0 + np.exp(-self.opacity_logits))


def _quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of wxyz quaternions, row-wise."""
    aw, ax, ay, az = a.T
    bw, bx, by, bz = b.T
    return np.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], axis=1)


# Quaternion of the frame change applied to column vectors, R = Y_UPᵀ: −90° about x.
_Q_TO_FILE = np.array([np.cos(np.pi / 4), -np.sin(np.pi / 4), 0.0, 0.0])


def _rotate_quats(q: np.ndarray, to_file: bool) -> np.ndarray:
    r = _Q_TO_FILE if to_file else _Q_TO_FILE * np.array([1, -1, -1, -1])
    return _quat_multiply(np.broadcast_to(r, q.shape), q)


def write_gaussian_ply(splats: GaussianSplats, path: str | Path, up: str = "y") -> Path:
    """Atomically write ``splats`` in the 3DGS PLY layout."""
    n = splats.count
    k = splats.sh_rest.shape[1] if splats.sh_rest.ndim == 3 else 0
    names = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    names += [f"f_rest_{i}" for i in range(3 * k)]
    names += ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    means = splats.means @ Y_UP if up == "y" else splats.means
    rots = _rotate_quats(splats.rotations, to_file=True) if up == "y" else splats.rotations
    rest = splats.sh_rest.transpose(0, 2, 1).reshape(n, 3 * k) if k else np.zeros((n, 0))
    columns = np.concatenate([means, np.zeros((n, 3)), splats.sh_dc, rest,
                              splats.opacity_logits.reshape(n, 1), splats.log_scales, rots], axis=1)
    data = np.ascontiguousarray(columns, dtype="<f4")
    header = "ply\nformat binary_little_endian 1.0\n" + f"element vertex {n}\n"
    header += "".join(f"property float {name}\n" for name in names) + "end_header\n"

    def write(handle) -> None:
        handle.write(header.encode("ascii"))
        handle.write(data.tobytes())

    return write_atomic(path, write)


def read_gaussian_ply(path: str | Path, up: str = "y") -> GaussianSplats:
    """Read a 3DGS PLY (binary little-endian, float properties) into :class:`GaussianSplats`."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    raw = path.read_bytes()
    end = raw.find(b"end_header\n")
    if not raw.startswith(b"ply") or end < 0:
        raise InputError(f"{path}: not a PLY file")
    lines = raw[:end].decode("ascii", errors="replace").splitlines()
    if "format binary_little_endian 1.0" not in lines:
        raise InputError(f"{path}: Gaussian PLY must be binary_little_endian")
    count, names = 0, []
    for line in lines:
        parts = line.split()
        if parts[:2] == ["element", "vertex"]:
            count = int(parts[2])
        elif parts[:1] == ["property"]:
            if parts[1] not in ("float", "float32"):
                raise InputError(f"{path}: property {parts[-1]} is {parts[1]}, expected float")
            names.append(parts[2])
    required = {"x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "rot_0"}
    missing = sorted(required - set(names))
    if missing:
        raise InputError(f"{path}: not a 3D Gaussian PLY (missing {', '.join(missing)})")
    body = raw[end + len(b"end_header\n"):]
    if len(body) < count * len(names) * 4:
        raise InputError(f"{path}: truncated ({len(body)} bytes for {count} Gaussians)")
    table = np.frombuffer(body, dtype="<f4", count=count * len(names)).reshape(count, len(names))
    col = {name: table[:, i].astype(np.float64) for i, name in enumerate(names)}
    rest_names = sorted((n for n in names if n.startswith("f_rest_")), key=lambda s: int(s.split("_")[-1]))
    k = len(rest_names) // 3
    rest = (np.stack([col[n] for n in rest_names], axis=1).reshape(count, 3, k).transpose(0, 2, 1)
            if k else np.zeros((count, 0, 3)))
    means = np.stack([col["x"], col["y"], col["z"]], axis=1)
    rots = np.stack([col[f"rot_{i}"] for i in range(4)], axis=1)
    rots = rots / np.maximum(np.linalg.norm(rots, axis=1, keepdims=True), 1e-12)
    if up == "y":
        means = means @ Y_UP.T
        rots = _rotate_quats(rots, to_file=False)
    return GaussianSplats(
        means=means,
        log_scales=np.stack([col[f"scale_{i}"] for i in range(3)], axis=1),
        rotations=rots,
        opacity_logits=col["opacity"],
        sh_dc=np.stack([col[f"f_dc_{i}"] for i in range(3)], axis=1),
        sh_rest=rest,
    )
