import pytest
import torch

from text3d.nn.rope import apply_rope, identity_angles, rope_2d_angles


def test_angles_layout():
    cos, sin = rope_2d_angles(3, 5, 8, base=100.0)
    assert cos.shape == sin.shape == (15, 8)
    # token r·cols + c: the first half turns by r·ω, the second by c·ω, ω = (1, 100^(−1/2)) per pair
    r, c = 2, 4
    omega = torch.tensor([1.0, 0.1])
    expected = torch.cat([r * omega, c * omega]).repeat_interleave(2)
    assert torch.allclose(cos[r * 5 + c], torch.cos(expected), atol=1e-6)
    assert torch.allclose(sin[r * 5 + c], torch.sin(expected), atol=1e-6)
    with pytest.raises(ValueError):
        rope_2d_angles(2, 2, 6)


def test_rotation_preserves_norms_and_changes_vectors():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 8)
    cos, sin = rope_2d_angles(4, 4, 8)
    y = apply_rope(x, cos, sin)
    assert torch.allclose(y.norm(dim=-1), x.norm(dim=-1), atol=1e-5)
    # every channel pair keeps its own norm (rotations act pairwise)
    assert torch.allclose(y.unflatten(-1, (4, 2)).norm(dim=-1), x.unflatten(-1, (4, 2)).norm(dim=-1), atol=1e-5)
    assert torch.allclose(y[:, :, 0], x[:, :, 0])  # grid origin: angle 0
    assert not torch.allclose(y[:, :, 5], x[:, :, 5], atol=1e-3)


def test_dot_product_depends_only_on_grid_offset():
    torch.manual_seed(0)
    rows = cols = 6
    head_dim = 16
    cos, sin = rope_2d_angles(rows, cols, head_dim)
    q = torch.randn(head_dim)
    k = torch.randn(head_dim)

    def score(qpos: tuple[int, int], kpos: tuple[int, int]) -> torch.Tensor:
        i, j = qpos[0] * cols + qpos[1], kpos[0] * cols + kpos[1]
        q_rot = apply_rope(q.view(1, 1, 1, -1), cos[i], sin[i])
        k_rot = apply_rope(k.view(1, 1, 1, -1), cos[j], sin[j])
        return (q_rot * k_rot).sum()

    # same offset (+1 row, +2 columns) at three places of the grid
    base = score((0, 0), (1, 2))
    assert torch.allclose(score((3, 1), (4, 3)), base, atol=1e-5)
    assert torch.allclose(score((4, 3), (5, 5)), base, atol=1e-5)
    # the transposed offset (+2 rows, +1 column) is a different relation
    assert not torch.allclose(score((0, 0), (2, 1)), base, atol=1e-3)
    # rows and columns use separate halves: a row offset alone leaves the column half untouched
    assert not torch.allclose(score((0, 0), (1, 0)), score((0, 0), (0, 1)), atol=1e-3)


def test_identity_factors_leave_tokens_unchanged():
    torch.manual_seed(0)
    n_special, rows, cols, head_dim = 5, 3, 3, 8
    cos_id, sin_id = identity_angles(n_special, head_dim)
    assert torch.equal(cos_id, torch.ones(n_special, head_dim))
    assert torch.equal(sin_id, torch.zeros(n_special, head_dim))
    cos_g, sin_g = rope_2d_angles(rows, cols, head_dim)
    cos, sin = torch.cat([cos_id, cos_g]), torch.cat([sin_id, sin_g])
    x = torch.randn(2, 2, n_special + rows * cols, head_dim)
    y = apply_rope(x, cos, sin)
    assert torch.equal(y[:, :, :n_special], x[:, :, :n_special])  # CLS + registers: exactly unrotated
    assert torch.allclose(y[:, :, n_special:], apply_rope(x[:, :, n_special:], cos_g, sin_g))
    assert not torch.allclose(y[:, :, n_special + 4], x[:, :, n_special + 4], atol=1e-3)
