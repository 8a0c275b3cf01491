"""CLIP and DINOv2 extractors on tiny random models of the same transformers classes."""

import numpy as np
import pytest
import torch
from PIL import Image

from tests.encoders.tiny_models import save_tiny_clip, save_tiny_dinov2
from text3d.encoders import create_extractor, extractors
from text3d.encoders.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    OPENAI_CLIP_MEAN,
    OPENAI_CLIP_STD,
    to_rgb_uint8,
)
from text3d.errors import InputError, ModelNotAvailableError


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return save_tiny_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def dinov2_dir(tmp_path_factory):
    return save_tiny_dinov2(tmp_path_factory.mktemp("dinov2"))


def images(count=3, size=48, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (size, size + 8 * (i % 2), 3), dtype=np.uint8) for i in range(count)]


def test_registry_lists_the_real_extractors():
    assert {"clip-vit-large-patch14", "dinov2-vitl14", "inception-v3", "pointnet2"} <= set(extractors.names())


def test_clip_image_and_text_features_match_the_model(clip_dir):
    from transformers import CLIPModel

    ext = create_extractor("clip-vit-large-patch14", weights=str(clip_dir), device="cpu")
    assert ext.joint_space and ext.modalities == {"image", "text"} and ext.dim == 16
    imgs = images()
    feats = ext.image_features(imgs)
    assert feats.shape == (3, 16) and feats.dtype == np.float32
    np.testing.assert_array_equal(feats, ext.image_features(imgs))
    np.testing.assert_allclose(ext.image_features(imgs[1:2]), feats[1:2], atol=1e-5)  # batch independent
    # independent preprocessing: shorter side → 30 (bicubic), centre crop 30, CLIP mean/std
    model = CLIPModel.from_pretrained(clip_dir).eval()
    pil = Image.fromarray(imgs[1])
    w, h = pil.size
    resized = pil.resize((int(30 * w / h), 30), Image.BICUBIC)
    left = round((resized.size[0] - 30) / 2)
    crop = np.asarray(resized.crop((left, 0, left + 30, 30)), np.float32) / 255.0
    pixels = torch.from_numpy(((crop - OPENAI_CLIP_MEAN) / OPENAI_CLIP_STD).transpose(2, 0, 1)[None]).float()
    with torch.no_grad():
        out = model.get_image_features(pixel_values=pixels)
    expected = (out if isinstance(out, torch.Tensor) else out.pooler_output).numpy()
    np.testing.assert_allclose(feats[1:2], expected, atol=1e-5)

    texts = ["a red box", "a green sphere " * 40]  # the second exceeds 77 tokens: truncated, not an error
    text_feats = ext.text_features(texts)
    assert text_feats.shape == (2, 16) and np.isfinite(text_feats).all()
    assert not np.allclose(text_feats[0], text_feats[1])
    np.testing.assert_allclose(ext.text_features(texts[:1]), text_feats[:1], atol=1e-5)
    with pytest.raises(InputError, match="no point features"):
        ext.point_features([np.zeros((10, 3))])


def test_dinov2_features_are_final_norm_cls_at_224(dinov2_dir):
    from transformers import Dinov2Model

    ext = create_extractor("dinov2-vitl14", weights=str(dinov2_dir), device="cpu")
    assert ext.dim == 32 and not ext.joint_space
    imgs = images(2, size=40)
    feats = ext.image_features(imgs)
    model = Dinov2Model.from_pretrained(dinov2_dir).eval()
    batch = []
    for img in imgs:
        resized = np.asarray(Image.fromarray(img).resize((224, 224), Image.BICUBIC), np.float32) / 255.0
        batch.append(((resized - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1))
    with torch.no_grad():
        hidden = model(pixel_values=torch.from_numpy(np.stack(batch)).float()).last_hidden_state
    np.testing.assert_allclose(feats, hidden[:, 0].numpy(), atol=1e-5)
    # final layer norm without affine change: each CLS vector has ~zero mean across channels
    assert np.abs(feats.mean(axis=1)).max() < 0.2 * np.abs(feats).mean()


def test_weights_from_environment_variable(dinov2_dir, monkeypatch):
    monkeypatch.setenv("TEXT3D_WEIGHTS_DINOV2", str(dinov2_dir))
    ext = create_extractor("dinov2-vitl14")
    assert ext.image_features(images(1)).shape == (1, 32)
    assert str(dinov2_dir.resolve()) in ext.weights_id


@pytest.mark.parametrize("name, hub, env", [
    ("clip-vit-large-patch14", "openai/clip-vit-large-patch14", "TEXT3D_WEIGHTS_CLIP"),
    ("dinov2-vitl14", "facebook/dinov2-large", "TEXT3D_WEIGHTS_DINOV2")])
def test_offline_missing_hub_model_says_how_to_provide_weights(name, hub, env, monkeypatch):
    monkeypatch.delenv(env, raising=False)
    with pytest.raises(ModelNotAvailableError) as info:
        create_extractor(name, device="cpu")
    message = str(info.value)
    assert name in message and hub in message and env in message and "--weights" in message
    assert "\n" not in message


def test_missing_local_folder_is_reported(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="dinov2-vitl14"):
        create_extractor("dinov2-vitl14", weights=str(tmp_path / "empty"), device="cpu")
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(ModelNotAvailableError, match="expected a model folder"):
        create_extractor("clip-vit-large-patch14", weights=str(tmp_path / "file.bin"), device="cpu")


def test_rgb_conversion_composites_alpha_on_white():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)
    rgb = to_rgb_uint8(rgba)
    assert tuple(rgb[0, 0]) == (255, 0, 0) and tuple(rgb[1, 1]) == (255, 255, 255)
    assert to_rgb_uint8(np.zeros((2, 2), np.uint8)).shape == (2, 2, 3)
    with pytest.raises(InputError):
        to_rgb_uint8(np.zeros((2, 2, 3), np.float32))
