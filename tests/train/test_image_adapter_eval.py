"""The held-out image-conditioned flow loss of generator folders: fixed draws, so a folder always
gets the same figure and two models get different ones."""

import numpy as np
import pytest
import torch

from text3d.encoders.embedded import EmbeddedImageEncoder
from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
from text3d.nn.dit import DiTConfig, FlowDiT
from text3d.train.generator import save_generator
from text3d.train.image_adapter_eval import development_items, folder_flow_loss, heldout_flow_loss


def tiny_generator(folder, seed):
    torch.manual_seed(seed)
    vae = BlockVAE(BlockVAEConfig(resolution=32, block=8, latent=3, hidden=16))
    dit = FlowDiT(DiTConfig(tokens=64, token_dim=3, width=32, depth=1, heads=4, text_dim=8, image_dim=192))
    with torch.no_grad():  # a fresh DiT's output is zero-initialized: give every weight a value
        for p in dit.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    save_generator(folder, vae, dit, np.zeros(3), np.ones(3), {"note": "test"}, "# tiny\n")
    return folder


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    return development_items(tmp_path_factory.mktemp("cache"), n=2, workers=1, progress=False)


def test_a_folder_always_gets_the_same_loss_and_another_model_another(tmp_path, items):
    assert items.items == 2 and len(items.images) == 2 * 2  # both renders of each item
    a, b = tiny_generator(tmp_path / "a", 0), tiny_generator(tmp_path / "b", 1)
    encoder = EmbeddedImageEncoder.from_pretrained(None)
    first = folder_flow_loss(a, items, encoder, draws=2)
    assert np.isfinite(first) and first > 0
    assert folder_flow_loss(a, items, encoder, draws=2) == first
    assert folder_flow_loss(b, items, encoder, draws=2) != first
    assert folder_flow_loss(a, items, encoder, draws=1) != first  # each draw adds its own noise and t


def test_heldout_flow_loss_keys_each_folder_as_given(tmp_path):
    folder = tiny_generator(tmp_path / "g", 0)
    losses = heldout_flow_loss([folder], tmp_path / "cache", n=1, draws=1)
    assert list(losses) == [str(folder)] and np.isfinite(losses[str(folder)])
