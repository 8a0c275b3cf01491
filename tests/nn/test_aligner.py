import pytest
import torch

from text3d.nn.aligner import GROUPS, AlignerConfig, AlignerDiT, group_shapes
from text3d.nn.aligner_flow import aligner_euler_sample, aligner_flow_loss


def tiny_config(**overrides) -> AlignerConfig:
    values = dict(grid=3, registers=2, token_dim=6, width=32, depth=2, heads=2, cond_dim=10, mlp_ratio=2.0,
                  null_tokens=3)
    values.update(overrides)
    return AlignerConfig(**values)


def randomized(model: AlignerDiT, seed: int = 0) -> AlignerDiT:
    """Give the zero-initialized layers (adaLN, cross-attention output, heads) random values, so that
    every path of a fresh model carries signal."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if not p.any():
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return model


def make_batch(config: AlignerConfig, b: int, seed: int = 1, cond_len: int = 5):
    g = torch.Generator().manual_seed(seed)
    x = {k: torch.randn(shape, generator=g) for k, shape in group_shapes(config, b).items()}
    cond = torch.randn(b, cond_len, config.cond_dim, generator=g)
    mask = torch.ones(b, cond_len, dtype=torch.bool)
    mask[0, -2:] = False  # one padded condition row
    return x, cond, mask


def test_output_shapes_and_fresh_model_is_zero():
    torch.manual_seed(0)
    config = tiny_config()
    model = AlignerDiT(config)
    x, cond, mask = make_batch(config, 3)
    v = model(x, torch.rand(3), cond, mask)
    assert set(v) == set(GROUPS)
    assert v["cls"].shape == (3, 1, 6) and v["registers"].shape == (3, 2, 6) and v["patches"].shape == (3, 9, 6)
    assert all(torch.equal(v[k], torch.zeros_like(v[k])) for k in GROUPS)  # zero-initialized heads
    assert AlignerConfig(**config.to_dict()) == config
    default = AlignerConfig()
    assert default.tokens == 1 + 4 + 64 and default.token_dim == 192 and default.cond_dim == 384
    with pytest.raises(ValueError):
        model({**x, "patches": x["patches"][:, :4]}, torch.rand(3), cond, mask)


def test_loss_matches_hand_computation():
    torch.manual_seed(0)
    config = tiny_config()
    model = randomized(AlignerDiT(config))
    b = 6
    x1, cond, mask = make_batch(config, b)
    loss, parts = aligner_flow_loss(model, x1, cond, drop_prob=0.5, generator=torch.Generator().manual_seed(7),
                                    cond_mask=mask)

    # The same draws by hand: noise per group (cls, registers, patches), then t, then the dropout coin.
    g = torch.Generator().manual_seed(7)
    x0 = {k: torch.randn(x1[k].shape, generator=g) for k in ("cls", "registers", "patches")}
    t = torch.sigmoid(torch.randn(b, generator=g))
    drop = torch.rand(b, generator=g) < 0.5
    assert drop.any() and not drop.all()  # both branches of the condition dropout are exercised
    xt = {k: t[:, None, None] * x1[k] + (1 - t[:, None, None]) * x0[k] for k in x0}
    v = model(xt, t, cond, mask, drop)
    mse = {k: ((v[k] - (x1[k] - x0[k])) ** 2).mean() for k in x0}
    expected = 0.4 * mse["patches"] + 0.3 * mse["cls"] + 0.3 * mse["registers"]
    assert torch.allclose(loss, expected, rtol=1e-5)
    assert all(torch.allclose(parts[k], mse[k], rtol=1e-5) for k in x0)

    only_patches, _ = aligner_flow_loss(model, x1, cond, {"patches": 1.0, "cls": 0.0, "registers": 0.0},
                                        drop_prob=0.5, generator=torch.Generator().manual_seed(7), cond_mask=mask)
    assert torch.allclose(only_patches, mse["patches"], rtol=1e-5)


def test_condition_dropout_uses_the_null_condition():
    torch.manual_seed(0)
    config = tiny_config()
    model = randomized(AlignerDiT(config))
    x1, cond, mask = make_batch(config, 4)
    other = torch.randn_like(cond)

    def loss(c: torch.Tensor, p: float) -> torch.Tensor:
        return aligner_flow_loss(model, x1, c, drop_prob=p, generator=torch.Generator().manual_seed(3),
                                 cond_mask=mask)[0]

    assert torch.allclose(loss(cond, 1.0), loss(other, 1.0))  # every condition dropped: C is not seen
    assert not torch.allclose(loss(cond, 0.0), loss(other, 0.0), rtol=1e-4)


def test_t_is_shared_across_groups_and_noise_is_independent():
    config = tiny_config()
    b = 4
    x1, cond, mask = make_batch(config, b)
    seen = {}

    def spy(xt, t, c, c_mask, drop):
        seen.update(xt=xt, t=t)
        return {k: torch.zeros_like(value) for k, value in xt.items()}

    _, parts = aligner_flow_loss(spy, x1, cond, generator=torch.Generator().manual_seed(5), cond_mask=mask)
    t = seen["t"]
    assert t.shape == (b,) and len(set(t.tolist())) == b  # one t per sample, different across samples
    tt = t[:, None, None]
    # With the one t the model received, every group's x_t inverts to the noise its loss used.
    x0 = {k: (seen["xt"][k] - tt * x1[k]) / (1 - tt) for k in GROUPS}
    for k in GROUPS:
        assert torch.allclose(parts[k], ((x1[k] - x0[k]) ** 2).mean(), rtol=1e-4)
    # independent noise: no group (or sample) reuses another's draw
    firsts = [x0["cls"][:, 0], x0["registers"][:, 0], x0["registers"][:, 1], x0["patches"][:, 0]]
    for i in range(len(firsts)):
        for j in range(i + 1, len(firsts)):
            assert not torch.allclose(firsts[i], firsts[j], atol=1e-2)
    assert not torch.allclose(x0["patches"][0], x0["patches"][1], atol=1e-2)


def test_cfg_sampling_matches_hand_euler():
    torch.manual_seed(0)
    config = tiny_config()
    model = randomized(AlignerDiT(config)).eval()
    b, steps = 2, 3
    _, cond, mask = make_batch(config, b)

    def by_hand(cfg: float | dict | None, phi: float = 0.0, tau: float = 1.0) -> dict:
        g = torch.Generator().manual_seed(11)
        x = {k: tau * torch.randn(shape, generator=g) for k, shape in group_shapes(config, b).items()}
        with torch.no_grad():
            for i in range(steps):
                t = torch.full((b,), i / steps)
                v = model(x, t, cond, mask)
                if cfg is not None:
                    v_null = model(x, t, cond, mask, torch.ones(b, dtype=torch.bool))
                    w = cfg if isinstance(cfg, dict) else dict.fromkeys(GROUPS, cfg)
                    guided = {k: v_null[k] + w[k] * (v[k] - v_null[k]) for k in GROUPS}
                    for k in GROUPS:  # rescale each sample's guided velocity towards the conditional σ
                        sigma_c = v[k].std(dim=(1, 2), keepdim=True)
                        sigma_g = guided[k].std(dim=(1, 2), keepdim=True)
                        guided[k] = phi * guided[k] * sigma_c / sigma_g + (1 - phi) * guided[k]
                    v = guided
                x = {k: x[k] + v[k] / steps for k in GROUPS}
        return x

    plain = aligner_euler_sample(model, cond, steps, 1.0, torch.Generator().manual_seed(11), cond_mask=mask)
    conditional = by_hand(None)
    assert all(torch.allclose(plain[k], conditional[k], atol=1e-6) for k in GROUPS)
    guided = aligner_euler_sample(model, cond, steps, 2.5, torch.Generator().manual_seed(11), cond_mask=mask)
    expected = by_hand(2.5)
    assert all(torch.allclose(guided[k], expected[k], atol=1e-5) for k in GROUPS)
    assert not torch.allclose(guided["patches"], plain["patches"], atol=1e-3)  # guidance does something
    for phi in (0.7, 1.0):
        rescaled = aligner_euler_sample(model, cond, steps, 2.5, torch.Generator().manual_seed(11), cond_mask=mask,
                                        guidance_rescale=phi)
        expected = by_hand(2.5, phi)
        assert all(torch.allclose(rescaled[k], expected[k], atol=1e-5) for k in GROUPS)
        assert not torch.allclose(rescaled["patches"], guided["patches"], atol=1e-4)
    # a weight per token group: the named groups get theirs, the others cfg
    split = aligner_euler_sample(model, cond, steps, 2.5, torch.Generator().manual_seed(11), cond_mask=mask,
                                 group_cfg={"cls": 6.0, "registers": 6.0})
    expected = by_hand({"cls": 6.0, "registers": 6.0, "patches": 2.5})
    assert all(torch.allclose(split[k], expected[k], atol=1e-5) for k in GROUPS)
    assert not torch.allclose(split["cls"], guided["cls"], atol=1e-4)
    unguided = aligner_euler_sample(model, cond, steps, 2.5, torch.Generator().manual_seed(11), cond_mask=mask,
                                    group_cfg=dict.fromkeys(GROUPS, 1.0))
    assert all(torch.allclose(unguided[k], plain[k], atol=1e-6) for k in GROUPS)
    for tau in (0.0, 0.6):  # reduced temperature scales the starting noise only
        cooled = aligner_euler_sample(model, cond, steps, 2.5, torch.Generator().manual_seed(11), cond_mask=mask,
                                      temperature=tau)
        expected = by_hand(2.5, tau=tau)
        assert all(torch.allclose(cooled[k], expected[k], atol=1e-5) for k in GROUPS)
        assert not torch.allclose(cooled["patches"], guided["patches"], atol=1e-4)


def test_patch_positions_enter_only_through_rope():
    torch.manual_seed(0)
    flat = randomized(AlignerDiT(tiny_config(rope=False))).eval()
    roped = AlignerDiT(tiny_config(rope=True)).eval()
    roped.load_state_dict(flat.state_dict())  # same weights: the models differ only in their rotary factors
    x, cond, mask = make_batch(config := tiny_config(), 2)
    t = torch.tensor([0.3, 0.7])
    perm = torch.randperm(config.patches)
    shuffled = {**x, "patches": x["patches"][:, perm]}
    with torch.no_grad():
        v_flat, v_flat_shuffled = flat(x, t, cond, mask), flat(shuffled, t, cond, mask)
        v_rope, v_rope_shuffled = roped(x, t, cond, mask), roped(shuffled, t, cond, mask)
    # without RoPE the patches are a set: shuffling them shuffles their velocities, nothing else changes
    assert torch.allclose(v_flat_shuffled["patches"], v_flat["patches"][:, perm], atol=1e-5)
    assert torch.allclose(v_flat_shuffled["cls"], v_flat["cls"], atol=1e-5)
    assert torch.allclose(v_flat_shuffled["registers"], v_flat["registers"], atol=1e-5)
    # with RoPE the grid position of each patch matters, for the patches and for the global tokens
    assert not torch.allclose(v_rope_shuffled["patches"], v_rope["patches"][:, perm], atol=1e-3)
    assert not torch.allclose(v_rope_shuffled["cls"], v_rope["cls"], atol=1e-3)


def test_gradients_reach_all_parameters():
    torch.manual_seed(0)
    config = tiny_config()
    model = randomized(AlignerDiT(config))
    x1, cond, mask = make_batch(config, 3)
    kept, _ = aligner_flow_loss(model, x1, cond, drop_prob=0.0, generator=torch.Generator().manual_seed(0),
                                cond_mask=mask)
    dropped, _ = aligner_flow_loss(model, x1, cond, drop_prob=1.0, generator=torch.Generator().manual_seed(1),
                                   cond_mask=mask)
    (kept + dropped).backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing


def test_overfits_two_examples():
    torch.manual_seed(0)
    config = tiny_config(grid=2, registers=1, token_dim=4, cond_dim=8)
    model = AlignerDiT(config)
    x1, cond, _ = make_batch(config, 2, cond_len=3)
    reps = 16
    batch = {k: v.repeat(reps, 1, 1) for k, v in x1.items()}
    cond_batch = cond.repeat(reps, 1, 1)

    def eval_loss() -> float:
        with torch.no_grad():
            return aligner_flow_loss(model, batch, cond_batch, drop_prob=0.0,
                                     generator=torch.Generator().manual_seed(123))[0].item()

    before = eval_loss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for _ in range(30):
        loss, _ = aligner_flow_loss(model, batch, cond_batch, drop_prob=0.0, generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert eval_loss() <= 0.5 * before
