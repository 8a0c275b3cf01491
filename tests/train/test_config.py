"""Each trainer's settings are stated once, in its config dataclass: the resume keys, the model
cards (the ones a training writes and the shipped ones) and the cached data derive from it."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import text3d
from text3d.train.config import (
    DIT_STAGES,
    RUNTIME,
    VAE_STAGES,
    AlignerTrainConfig,
    EncoderTrainConfig,
    GeneratorTrainConfig,
    ImageAdapterTrainConfig,
    settings_section,
    settings_table,
    stage_key,
)
from text3d.train.data import TrainingData
from text3d.train.evaluator_config import EvaluatorTrainConfig
from text3d.train.mvdiffusion_config import MVDiffusionTrainConfig
from text3d.train.run_encoders import encoder_card
from text3d.train.run_generator import generator_card

CONFIGS = (EncoderTrainConfig, GeneratorTrainConfig, AlignerTrainConfig)
WEIGHTS = Path(text3d.__file__).parent / "weights"


def setting_rows(config_type, values):
    return [f"| `{f.name}` | {values[f.name]} |" for f in dataclasses.fields(config_type)]


@pytest.mark.parametrize("config_type", CONFIGS)
def test_every_setting_has_a_default_a_doc_and_a_stage_and_the_config_is_frozen(config_type):
    config = config_type()
    for field in dataclasses.fields(config_type):
        assert field.default is not dataclasses.MISSING, field.name
        assert field.metadata["doc"].endswith(".") and "\n" not in field.metadata["doc"], field.name
        assert field.metadata["stage"], field.name
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 1


def test_a_dit_checkpoint_is_keyed_by_every_setting_that_changes_what_is_trained():
    config = GeneratorTrainConfig()
    runtime = {f.name for f in dataclasses.fields(config) if f.metadata["stage"] == RUNTIME}
    assert runtime == {"device", "workers", "checkpoint_every"}
    assert set(stage_key(config, DIT_STAGES)) == {f.name for f in dataclasses.fields(config)} - runtime
    assert stage_key(config, VAE_STAGES) == {"seed": 0, "items": 13500, "vae_steps": 2500, "vae_batch": 48,
                                             "vae_lr": 1e-3, "vae_empty_keep": 0.15, "latent": 16}
    changed = dataclasses.replace(config, cond_dropout=0.2)
    assert stage_key(changed, DIT_STAGES) != stage_key(config, DIT_STAGES)
    assert stage_key(changed, VAE_STAGES) == stage_key(config, VAE_STAGES)


def test_the_generator_card_lists_every_setting_with_its_value():
    config = GeneratorTrainConfig(steps=77, cond_dropout=0.2, device="cpu")
    card = generator_card(config, {"data": 1.0, "vae": 2.0, "dit": 3.0}, {}, {"vae": 10, "dit": 20})
    for row in setting_rows(GeneratorTrainConfig, dataclasses.asdict(config)):
        assert row in card
    assert "--steps 77" in card and "--device" not in card


def test_the_encoder_cards_list_every_setting_with_its_value():
    config = dataclasses.asdict(EncoderTrainConfig(point_steps=12, head_weight=0.5))
    training = {"config": config, "data": {"items": 45, "images": 270, "points": 45}, "model": "point",
                "hardware": "x86_64", "data_seconds": 1.0, "seconds": 2.0, "command": "text3d train encoders"}
    card = encoder_card("title", "what", training, {"seed": 1, "n": 2}, 100)
    for row in setting_rows(EncoderTrainConfig, config):
        assert row in card


@pytest.mark.parametrize("folder,config_type", [("generator", GeneratorTrainConfig),
                                                ("image-encoder", EncoderTrainConfig),
                                                ("point-encoder", EncoderTrainConfig),
                                                ("toyworld-mvdiffusion", MVDiffusionTrainConfig),
                                                ("evaluator", EvaluatorTrainConfig),
                                                ("aligner-stage1", AlignerTrainConfig),
                                                ("aligner-stage2", AlignerTrainConfig)])
def test_the_shipped_cards_list_every_setting_their_weights_were_trained_with(folder, config_type):
    recorded = json.loads((WEIGHTS / folder / "config.json").read_text())["training"]["config"]
    assert set(recorded) == {f.name for f in dataclasses.fields(config_type)}
    assert settings_section(config_type, recorded) in (WEIGHTS / folder / "README.md").read_text()


def test_the_shipped_generator_card_lists_every_setting_of_its_image_adapter():
    config = json.loads((WEIGHTS / "generator" / "config.json").read_text())
    recorded = config["training"]["image_adapter"]["config"]
    assert config["dit"]["image_adapter"] == recorded["depth"]
    assert set(recorded) == {f.name for f in dataclasses.fields(ImageAdapterTrainConfig)}
    assert settings_table(ImageAdapterTrainConfig, recorded) in (WEIGHTS / "generator" / "README.md").read_text()


def test_training_data_survives_its_cache_file(tmp_path):
    data = TrainingData(
        images=np.zeros((4, 8, 8, 3), np.uint8), image_item=np.repeat(np.arange(2), 2),
        voxelized=np.array([False, True]), category=np.array([3, 4]), color=np.array([0, 1]),
        grouped=np.array([False, True]), material=np.array(["wood", "metal"]), size=np.array(["small", "large"]),
        prompt=np.array(["red mug", "two chairs"]), texts=(("red mug", "A red mug."), ("two chairs",)),
        points=np.ones((1, 5, 3), np.float16), point_item=np.array([1]))
    np.savez(tmp_path / "d.npz", **data.to_arrays())
    with np.load(tmp_path / "d.npz", allow_pickle=False) as arrays:
        loaded = TrainingData.from_arrays({k: arrays[k] for k in arrays.files})
    assert loaded.texts == data.texts and loaded.items == 2 and loaded.occupancy is None
    for field in ("images", "image_item", "category", "material", "prompt", "points", "point_item"):
        assert np.array_equal(getattr(loaded, field), getattr(data, field)), field
