"""Embedded encoders: MiniLM parity, model folders, extractors."""

import numpy as np
import pytest
import torch

from text3d.encoders.base import create_extractor
from text3d.encoders.embedded import EmbeddedImageEncoder, EmbeddedPointEncoder
from text3d.errors import ModelNotAvailableError
from text3d.nn.checkpoint import save_folder
from text3d.nn.pointnet import PointNet, PointNetConfig
from text3d.nn.vit import ImageTextModel, ViTConfig


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    vit = ImageTextModel(ViTConfig(image_size=16, patch_size=8, width=24, depth=1, heads=2, embed_dim=8,
                                   categories=45, colors=12))
    save_folder(root / "image-encoder", vit.state_dict(), {"model": vit.config.to_dict()}, "# tiny")
    net = PointNet(PointNetConfig(point_mlp=(8, 16), head=(12,), classes=45))
    save_folder(root / "point-encoder", net.state_dict(), {"model": net.config.to_dict(), "points": 64}, "# tiny")
    return root


def test_minilm_matches_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    from text3d.encoders.minilm import bundled_model_path, shared_text_encoder

    texts = ["small blue sailboat", "a wooden chair with four legs"]
    ours = shared_text_encoder().sentence_vectors(texts)
    reference = SentenceTransformer(str(bundled_model_path()), device="cpu").encode(texts, normalize_embeddings=True)
    assert np.abs(ours - reference).max() < 1e-5
    encoding = shared_text_encoder().encode(texts)
    assert encoding.tokens.shape[-1] == 384 and encoding.tokens.shape[:2] == encoding.mask.shape


def test_gradients_reach_token_embeddings():
    from text3d.encoders.minilm import shared_text_encoder

    encoder = shared_text_encoder()
    batch = encoder.tokenize(["red chair"])
    embeds = encoder.embed_tokens(batch["input_ids"]).detach().requires_grad_(True)
    _, pooled = encoder.forward_embeddings(embeds, batch["attention_mask"])
    pooled[0, 0].backward()
    assert embeds.grad is not None and embeds.grad.abs().sum() > 0


def test_model_folders_round_trip(tiny_weights):
    image = EmbeddedImageEncoder.from_pretrained(tiny_weights / "image-encoder")
    images = [np.random.default_rng(i).integers(0, 255, (32, 32, 3), dtype=np.uint8) for i in range(3)]
    cls, emb = image.features(images)
    assert cls.shape == (3, 24) and emb.shape == (3, 8)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert image.tokens(images).shape == (3, 1 + 4 + 4, 24)
    scores = image.score(images, ["a red chair", "a blue car"])
    assert scores.shape == (3, 2) and np.all(np.abs(scores) <= 100.0 + 1e-3)
    points = EmbeddedPointEncoder.from_pretrained(tiny_weights / "point-encoder")
    clouds = [np.random.default_rng(i).normal(size=(500, 3)) for i in range(2)]
    feats, logits = points.run(clouds)
    assert feats.shape == (2, 12) and logits.shape == (2, 45)
    again, _ = points.run(clouds)
    assert np.array_equal(feats, again)  # the subset is fixed, features are deterministic


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="config.json"):
        EmbeddedImageEncoder.from_pretrained(tmp_path)


def test_registered_extractors(tiny_weights):
    cls_ext = create_extractor("embedded", weights=str(tiny_weights / "image-encoder"))
    clip_ext = create_extractor("embedded-clip", weights=str(tiny_weights / "image-encoder"))
    images = [np.full((24, 24, 3), 200, np.uint8)]
    assert cls_ext.image_features(images).shape == (1, 24)
    assert cls_ext.point_features([np.random.default_rng(0).normal(size=(300, 3))]).shape == (1, 12)
    assert clip_ext.joint_space and not cls_ext.joint_space
    img, txt = clip_ext.image_features(images), clip_ext.text_features(["a cup"])
    assert img.shape == txt.shape == (1, 8)
    assert cls_ext.weights_id != clip_ext.weights_id or "point" not in clip_ext.weights_id


def test_shared_rows_do_not_hold_the_encoders_whole_output(tiny_weights):
    from text3d.encoders.extractors.embedded import _shared, encode_images

    encoder = EmbeddedImageEncoder.from_pretrained(tiny_weights / "image-encoder")
    images = [np.full((16, 16, 3), value, np.uint8) for value in (10, 120, 240)]
    cls, joint = encode_images(encoder, images, "tiny-weights-test")
    width, embed = encoder.config.width, encoder.config.embed_dim
    assert cls.shape == (3, width) and joint.shape == (3, embed)
    rows = [row for key, row in _shared.items() if key[0] == "tiny-weights-test"]
    assert len(rows) == 3
    for row in (r for pair in rows for r in pair):
        # a row whose owner is strided is a view into the (B, tokens, width) output: it keeps every token alive
        owner = row if row.base is None else row.base
        assert isinstance(owner, np.ndarray) and owner.flags.c_contiguous and owner.size <= 3 * max(width, embed)


def test_point_batches_never_cut_a_cloud_to_a_shorter_neighbour(tiny_weights):
    encoder = EmbeddedPointEncoder.from_pretrained(tiny_weights / "point-encoder")
    rng = np.random.default_rng(0)
    clouds = [rng.normal(size=(n, 3)).astype(np.float32) for n in (64, 20, 200, 64, 33)]
    together, _ = encoder.run(clouds, batch_size=4)
    alone = np.concatenate([encoder.run([c], batch_size=1)[0] for c in clouds])
    assert np.allclose(together, alone, atol=1e-5)


def test_another_models_folder_is_a_one_line_error_naming_it():
    from text3d.errors import InputError
    from text3d.nn.checkpoint import WEIGHTS_ROOT

    teacher = WEIGHTS_ROOT / "toyworld-mvdiffusion"  # a model folder of another kind
    for loader, kind in ((EmbeddedImageEncoder, "image"), (EmbeddedPointEncoder, "point")):
        with pytest.raises(InputError, match=f"toyworld-mvdiffusion: not an embedded {kind} encoder folder") as info:
            loader.from_pretrained(str(teacher))
        assert "\n" not in str(info.value)
