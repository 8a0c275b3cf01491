import numpy as np
import pytest

from text3d.assets.gaussians import GaussianSplats, read_gaussian_ply, write_gaussian_ply
from text3d.assets.io import Y_UP
from text3d.errors import InputError


def quat_to_matrix(q):
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def random_splats(n=50, k=15, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    return GaussianSplats(means=rng.normal(size=(n, 3)), log_scales=rng.normal(size=(n, 3)) - 3,
                          rotations=q / np.linalg.norm(q, axis=1, keepdims=True),
                          opacity_logits=rng.normal(size=n), sh_dc=rng.normal(size=(n, 3)),
                          sh_rest=rng.normal(size=(n, k, 3)))


def test_round_trip(tmp_path):
    s = random_splats()
    back = read_gaussian_ply(write_gaussian_ply(s, tmp_path / "g.ply"))
    assert back.count == s.count and back.sh_rest.shape == (50, 15, 3)
    for name in ("means", "log_scales", "opacity_logits", "sh_dc", "sh_rest"):
        assert np.allclose(getattr(back, name), getattr(s, name), atol=1e-5), name
    # q and -q are the same rotation
    assert np.allclose(np.abs(np.sum(back.rotations * s.rotations, axis=1)), 1.0, atol=1e-5)


def test_standard_layout_and_frame_change(tmp_path):
    s = random_splats(n=3, k=0)
    path = write_gaussian_ply(s, tmp_path / "g.ply")
    header = path.read_bytes().split(b"end_header\n")[0].decode()
    names = [line.split()[-1] for line in header.splitlines() if line.startswith("property")]
    assert names == ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
                     "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    raw = read_gaussian_ply(path, up="z")  # the file frame, untouched
    assert np.allclose(raw.means, s.means @ Y_UP, atol=1e-5)
    # the covariance must rotate with the frame: Σ_file = R Σ Rᵀ, R = Y_UPᵀ
    r = Y_UP.T
    for i in range(3):
        sig = quat_to_matrix(s.rotations[i]) @ np.diag(np.exp(2 * s.log_scales[i])) @ quat_to_matrix(s.rotations[i]).T
        rot = quat_to_matrix(raw.rotations[i])
        sig_file = rot @ np.diag(np.exp(2 * raw.log_scales[i])) @ rot.T
        assert np.allclose(sig_file, r @ sig @ r.T, atol=1e-5)


def test_rejects_mesh_ply(tmp_path):
    path = tmp_path / "m.ply"
    path.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 1\nproperty float x\n"
                     b"property float y\nproperty float z\nend_header\n" + b"\0" * 12)
    with pytest.raises(InputError, match="not a 3D Gaussian PLY"):
        read_gaussian_ply(path)
