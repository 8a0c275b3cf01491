import numpy as np
import torch

from text3d.nn.block_vae import BlockVAE, BlockVAEConfig, from_blocks, to_blocks
from text3d.nn.dit import DiTConfig, FlowDiT
from text3d.nn.flow import euler_sample, flow_loss
from text3d.nn.pointnet import PointNet, PointNetConfig
from text3d.nn.vit import ImageTextModel, ViTConfig, preprocess_images


def test_blocks_round_trip_and_order():
    grid = torch.arange(2 * 4 * 8 * 8 * 8, dtype=torch.float32).reshape(2, 4, 8, 8, 8)
    blocks = to_blocks(grid, 4)
    assert blocks.shape == (2, 8, 4 * 64)
    assert torch.equal(from_blocks(blocks, 4, 4), grid)
    # block 1 is x-block 0, y-block 0, z-block 1 (x-major order): voxel (0, 0, 4) of channel 0
    assert blocks[0, 1, 0] == grid[0, 0, 0, 0, 4]


def test_block_vae_shapes_and_loss():
    vae = BlockVAE(BlockVAEConfig(resolution=16, block=8, latent=4, hidden=32))
    grid = torch.rand(3, 4, 16, 16, 16)
    mean, logvar = vae.encode(grid)
    assert mean.shape == (3, 8, 4) and logvar.shape == (3, 8, 4)
    occ, rgb = vae.decode(mean)
    assert occ.shape == (3, 16, 16, 16) and rgb.shape == (3, 3, 16, 16, 16)
    loss, parts = vae.loss(grid)
    loss.backward()
    assert set(parts) == {"bce", "color", "kl", "blocks"} and torch.isfinite(loss)
    sparse, sparse_parts = vae.loss(torch.zeros(3, 4, 16, 16, 16), empty_keep=0.5)
    assert torch.isfinite(sparse) and sparse_parts["blocks"] <= 24


def test_fresh_dit_is_zero_and_cfg_sampling_runs():
    torch.manual_seed(0)
    dit = FlowDiT(DiTConfig(tokens=8, token_dim=4, width=32, depth=2, heads=4, text_dim=12, image_dim=6))
    x = torch.randn(2, 8, 4)
    ctx, mask = dit.condition(torch.randn(2, 5, 12), torch.ones(2, 5, dtype=torch.bool), "text")
    assert torch.allclose(dit(x, torch.rand(2), ctx, mask), torch.zeros(2, 8, 4))  # zero-initialized output
    null, null_mask = dit.null_condition(2, "text", torch.device("cpu"))
    out = euler_sample(dit, x, ctx, mask, null, null_mask, steps=3, cfg=2.0)
    assert torch.allclose(out, x)  # zero velocity everywhere leaves the noise unchanged
    drop = torch.tensor([True, False])
    dctx, dmask = dit.condition(torch.randn(2, 5, 12), torch.ones(2, 5, dtype=torch.bool), "text", drop)
    assert dctx.shape[1] == 5 and dmask[0].sum() == dit.config.null_tokens and dmask[1].sum() == 5


def test_image_adapter_starts_as_identity_and_leaves_the_text_path_alone():
    torch.manual_seed(0)
    config = DiTConfig(tokens=8, token_dim=4, width=32, depth=1, heads=4, text_dim=12, image_dim=6)
    plain = FlowDiT(config)
    adapted = FlowDiT(DiTConfig(**{**config.to_dict(), "image_adapter": 2}))
    missing, unexpected = adapted.load_state_dict(plain.state_dict(), strict=False)
    assert missing and all(k.startswith("image_adapter.") for k in missing) and not unexpected
    image, text = torch.randn(2, 5, 6), torch.randn(2, 3, 12)
    assert torch.allclose(adapted.condition(image, None, "image")[0], plain.condition(image, None, "image")[0])
    with torch.no_grad():  # a trained adapter changes the image context only
        for p in adapted.image_adapter.parameters():
            p.add_(0.1 * torch.randn_like(p))
    assert not torch.allclose(adapted.condition(image, None, "image")[0], plain.condition(image, None, "image")[0])
    assert torch.equal(adapted.condition(text, None, "text")[0], plain.condition(text, None, "text")[0])


def test_flow_learns_a_conditional_shift():
    """The loss falls and samples move towards the condition's target: +2 or −2."""
    torch.manual_seed(0)
    dit = FlowDiT(DiTConfig(tokens=2, token_dim=2, width=32, depth=2, heads=4, text_dim=2, image_dim=2))
    opt = torch.optim.Adam(dit.parameters(), lr=3e-3)
    losses = []
    for _ in range(300):
        sign = torch.randint(0, 2, (64,)).float() * 2 - 1
        x1 = sign[:, None, None] * 2.0 + 0.1 * torch.randn(64, 2, 2)
        ctx, mask = dit.condition(torch.stack([sign, -sign], 1)[:, None], None, "text")
        loss = flow_loss(dit, x1, ctx, mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-30:]) < 0.5 * np.mean(losses[:30])
    sign = torch.tensor([1.0, -1.0])
    ctx, mask = dit.condition(torch.stack([sign, -sign], 1)[:, None], None, "text")
    null, null_mask = dit.null_condition(2, "text", torch.device("cpu"))
    out = euler_sample(dit, torch.randn(2, 2, 2), ctx, mask, null, null_mask, steps=8, cfg=1.5)
    assert out[0].mean() > 1.0 and out[1].mean() < -1.0


def test_vit_layout_and_preprocess():
    config = ViTConfig(image_size=16, patch_size=8, width=24, depth=1, heads=2, registers=4, embed_dim=8,
                       categories=3, colors=2)
    model = ImageTextModel(config)
    images = [np.zeros((40, 40, 3), np.uint8), np.full((16, 16, 4), 255, np.uint8)]
    x = preprocess_images(images, 16)
    assert x.shape == (2, 3, 16, 16)
    tokens, emb = model.encode_image(x)
    assert tokens.shape == (2, 1 + 4 + 4, 24) and torch.allclose(emb.norm(dim=-1), torch.ones(2))
    assert torch.allclose(model.encode_text(torch.randn(3, 384)).norm(dim=-1), torch.ones(3))


def test_pointnet_features_ignore_point_order():
    net = PointNet(PointNetConfig(point_mlp=(8, 16), head=(12,), classes=5)).eval()
    pts = torch.randn(2, 100, 3)
    f1, logits = net(pts)
    f2, _ = net(pts[:, torch.randperm(100)])
    assert f1.shape == (2, 12) and logits.shape == (2, 5) and torch.allclose(f1, f2, atol=1e-6)
