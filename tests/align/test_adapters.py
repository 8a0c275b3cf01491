"""The aligner stage's real adapters (Qwen2.5-VL soft prompt, DINOv2-with-registers target) on tiny random
models of the same transformers classes, saved to folders and loaded back through the adapters' loaders."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from text3d.align.adapters.dinov2_reg import (
    Dinov2RegTarget,
    aligner_config,
    join_groups,
    split_groups,
    token_layout,
)
from text3d.align.adapters.qwen_vl import QwenVLSoftPrompt
from text3d.encoders.preprocess import IMAGENET_MEAN, IMAGENET_STD
from text3d.errors import ModelNotAvailableError, Text3DError

torch.set_num_threads(1)

HIDDEN = 64
WORDS = ("user assistant a red blue green chair car boat small big wooden metal make it the of lego normal to from "
         "change").split()
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
            "<|video_pad|>", "\n"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def save_tiny_qwen_vl(folder):
    """A random Qwen2_5_VLForConditionalGeneration (2 layers, hidden 64, 2-block vision tower), a WordLevel
    tokenizer with Qwen's special tokens and a chat template, and a 56-px Qwen2-VL image processor."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    vocab = {w: i for i, w in enumerate(SPECIALS + ["[UNK]"] + WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="<|endoftext|>",
                                        eos_token="<|im_end|>", additional_special_tokens=SPECIALS)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=56 * 56, patch_size=14, merge_size=2,
                             temporal_patch_size=2).save_pretrained(folder)
    config = Qwen2_5_VLConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": HIDDEN, "intermediate_size": 96, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256,
                     "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}},
        vision_config={"depth": 2, "hidden_size": 32, "intermediate_size": 48, "num_heads": 2,
                       "out_hidden_size": HIDDEN, "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2,
                       "window_size": 56, "fullatt_block_indexes": [1]},
        image_token_id=vocab["<|image_pad|>"], video_token_id=vocab["<|video_pad|>"],
        vision_start_token_id=vocab["<|vision_start|>"], vision_end_token_id=vocab["<|vision_end|>"])
    torch.manual_seed(0)
    Qwen2_5_VLForConditionalGeneration(config).eval().save_pretrained(folder)
    return folder


def save_tiny_dinov2_reg(folder):
    """A random Dinov2WithRegistersModel (width 32, 2 layers, 28 px, patch 14, 4 registers), its final
    LayerNorm given a non-trivial affine part so it differs from TRELLIS's non-affine norm."""
    from transformers import Dinov2WithRegistersConfig, Dinov2WithRegistersModel

    torch.manual_seed(0)
    config = Dinov2WithRegistersConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, mlp_ratio=2,
                                       image_size=28, patch_size=14, num_register_tokens=4)
    model = Dinov2WithRegistersModel(config).eval()
    with torch.no_grad():
        model.layernorm.weight.uniform_(0.5, 2.0)
        model.layernorm.bias.normal_()
    model.save_pretrained(folder)
    return folder


SOFT_WORDS = ["big", "wooden", "boat"]


def with_words_as_soft_tokens(qwen, text, image=None):
    """C with the soft tokens set to the input embeddings of :data:`SOFT_WORDS`."""
    ids = torch.tensor(qwen.tokenizer.convert_tokens_to_ids(SOFT_WORDS))
    saved = qwen.soft.data.clone()
    try:
        qwen.soft.data.copy_(qwen.vlm.get_input_embeddings()(ids))
        return qwen.encode([text], images=None if image is None else [image])[0]
    finally:
        qwen.soft.data.copy_(saved)


def reference_states(qwen, text, image=None):
    """The model's own forward over the templated prompt followed by the token ids of :data:`SOFT_WORDS`
    (it embeds, places the image features and computes the M-RoPE positions itself): the last 3 states."""
    import inspect

    batch = qwen.tokenize([text], images=None if image is None else [image])
    ids = torch.cat([batch.pop("input_ids"), torch.tensor([qwen.tokenizer.convert_tokens_to_ids(SOFT_WORDS)])], 1)
    if "mm_token_type_ids" in inspect.signature(qwen.vlm.model.forward).parameters:
        batch["mm_token_type_ids"] = (ids == qwen.image_token_id).int()
    batch.pop("attention_mask")
    qwen.vlm.model.rope_deltas = None
    states = qwen.vlm.model(input_ids=ids, use_cache=False, **batch).last_hidden_state
    qwen.vlm.model.rope_deltas = None
    return states[:, -3:]


@pytest.fixture(scope="module")
def qwen(tmp_path_factory):
    folder = save_tiny_qwen_vl(tmp_path_factory.mktemp("qwen_vl"))
    torch.manual_seed(1)
    return QwenVLSoftPrompt.from_pretrained(str(folder), soft_tokens=3, device="cpu", init_std=1.0)


@pytest.fixture(scope="module")
def dino(tmp_path_factory):
    return Dinov2RegTarget.from_pretrained(str(save_tiny_dinov2_reg(tmp_path_factory.mktemp("dinov2_reg"))),
                                           device="cpu")


def image(seed=0, size=(40, 40)):
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def test_condition_shape_and_only_soft_tokens_get_gradients(qwen):
    assert qwen.hidden_size == HIDDEN and qwen.soft_tokens == 3
    qwen.train()
    assert not qwen.vlm.training  # the frozen VLM stays in eval mode
    cond, mask = qwen.encode(["a red chair", "a small wooden boat"])
    assert cond.shape == (2, 3, HIDDEN) and cond.dtype == torch.float32 and mask.all() and mask.shape == (2, 3)
    cond.square().sum().backward()
    assert qwen.soft.grad is not None and qwen.soft.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in qwen.vlm.parameters())
    assert [name for name, p in qwen.named_parameters() if p.requires_grad] == ["soft"]
    qwen.soft.grad = None


def test_condition_is_read_at_the_soft_positions(qwen):
    batch = qwen.tokenize(["a red chair"])
    ids = batch["input_ids"][0].tolist()
    tokens = qwen.tokenizer.convert_ids_to_tokens(ids)
    assert tokens[:3] == ["<|im_start|>", "user", "\n"] and tokens[-3:] == ["<|im_start|>", "assistant", "\n"]
    with torch.no_grad():
        base, _ = qwen.encode(["a red chair"])
        # soft tokens set to real words' embeddings: C is the model's own last hidden states of those words
        torch.testing.assert_close(with_words_as_soft_tokens(qwen, "a red chair"),
                                   reference_states(qwen, "a red chair"), atol=1e-5, rtol=1e-5)
        words = qwen.vlm.get_input_embeddings()(batch["input_ids"])
        states = qwen.vlm.model(inputs_embeds=torch.cat([words, qwen.soft[None]], dim=1)).last_hidden_state
        torch.testing.assert_close(base, states[:, -3:], atol=1e-5, rtol=1e-5)
        assert not torch.allclose(base, states[:, -4:-1], atol=1e-3)  # not shifted by one
        other, _ = qwen.encode(["a blue car"])
        assert not torch.allclose(base, other, atol=1e-3)  # the prompt matters
        saved = qwen.soft.data.clone()
        try:
            qwen.soft.data[2] += 1.0  # the last soft token changes only the last slot (causal decoder)
            changed, _ = qwen.encode(["a red chair"])
        finally:
            qwen.soft.data.copy_(saved)
        torch.testing.assert_close(changed[:, :2], base[:, :2])
        assert not torch.allclose(changed[:, 2], base[:, 2], atol=1e-3)


def test_padding_in_a_batch_does_not_change_a_rows_condition(qwen):
    prompts = ["a red chair", "change the small wooden boat to a big metal car", "a blue lego boat"]
    with torch.no_grad():
        batch, _ = qwen.encode(prompts)
        for b, prompt in enumerate(prompts):
            alone, _ = qwen.encode([prompt])
            torch.testing.assert_close(batch[b:b + 1], alone, atol=1e-5, rtol=1e-5)
    padded = qwen.tokenize(prompts)
    assert (padded["attention_mask"] == 0).any()  # the batch really is padded
    left = {**padded, "attention_mask": padded["attention_mask"].flip(1)}
    with pytest.raises(ValueError, match="right-padded"):
        qwen(left["input_ids"], left["attention_mask"])


def test_multimodal_prompt_runs_and_differs_from_text_alone(qwen):
    instruction = "make it red"
    batch = qwen.tokenize([instruction, instruction], images=[image(0), None])
    grid = batch["image_grid_thw"]
    assert grid.shape == (1, 3) and batch["pixel_values"].shape[0] == int(grid.prod())
    n_image = int((batch["input_ids"][0] == qwen.image_token_id).sum())
    assert n_image == int(grid.prod()) // 4 and not (batch["input_ids"][1] == qwen.image_token_id).any()
    with torch.no_grad():
        both, _ = qwen.encode([instruction, instruction], images=[image(0), None])
        text, _ = qwen.encode([instruction])
        other, _ = qwen.encode([instruction], images=[image(1)])
        again, _ = qwen.encode([instruction], images=[image(0)])
    assert both.shape == (2, 3, HIDDEN) and torch.isfinite(both).all()
    torch.testing.assert_close(both[1:], text, atol=1e-5, rtol=1e-5)  # the text-only row is unaffected
    torch.testing.assert_close(both[:1], again, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(both[:1], text, atol=1e-3)
    assert not torch.allclose(again, other, atol=1e-3)  # the image's content reaches C
    # the same as the model's own image path (vision features in place, 3D M-RoPE positions)
    with torch.no_grad():
        torch.testing.assert_close(with_words_as_soft_tokens(qwen, instruction, image(0)),
                                   reference_states(qwen, instruction, image(0)), atol=1e-5, rtol=1e-5)
    # gradients reach the soft tokens through the image path too
    qwen.soft.grad = None
    cond, _ = qwen.encode([instruction], images=[image(0)])
    cond.sum().backward()
    assert qwen.soft.grad is not None and qwen.soft.grad.abs().sum() > 0
    qwen.soft.grad = None


def test_dinov2_reg_tokens_layout_and_trellis_normalisation(dino):
    layout = dino.layout
    assert (layout.registers, layout.grid, layout.token_dim, layout.tokens) == (4, 2, 32, 9)
    images = [image(0, (40, 50)), np.dstack([image(1), np.full((40, 40, 1), 128, np.uint8)])]
    tokens = dino.tokens(images)
    assert tokens.shape == (2, 9, 32) and tokens.dtype == torch.float32
    # independent reference: Lanczos to 28 px, ImageNet mean/std, pre-norm last block, non-affine LayerNorm
    from PIL import Image

    rgba = images[1].astype(np.float32)
    on_black = np.rint(rgba[..., :3] * rgba[..., 3:] / 255.0).astype(np.uint8)
    pixels = []
    for rgb in (images[0], on_black):
        resized = np.asarray(Image.fromarray(rgb).resize((28, 28), Image.LANCZOS), np.float32) / 255.0
        pixels.append(((resized - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1))
    with torch.no_grad():
        out = dino.model(pixel_values=torch.from_numpy(np.stack(pixels)).float(), output_hidden_states=True)
    expected = F.layer_norm(out.hidden_states[-1], (32,))
    torch.testing.assert_close(tokens, expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(tokens, out.last_hidden_state, atol=1e-2)  # not the model's affine final norm
    torch.testing.assert_close(tokens.mean(-1), torch.zeros(2, 9), atol=1e-5, rtol=0)
    prenorm_var = out.hidden_states[-1].var(-1, unbiased=False)  # unit variance up to F.layer_norm's eps 1e-5
    torch.testing.assert_close(tokens.var(-1, unbiased=False), prenorm_var / (prenorm_var + 1e-5))
    # layout: [CLS, registers, patches]; the CLS and the registers come from their learned embeddings
    groups = dino.groups(images)
    assert {k: tuple(v.shape) for k, v in groups.items()} == {"cls": (2, 1, 32), "registers": (2, 4, 32),
                                                               "patches": (2, 4, 32)}
    torch.testing.assert_close(join_groups(groups), tokens)
    with torch.no_grad():
        embedded = dino.model.embeddings(torch.from_numpy(np.stack(pixels)).float())
    torch.testing.assert_close(embedded[:, 1:5], dino.model.embeddings.register_tokens.expand(2, -1, -1))
    assert dino.tokens(images[:1]).shape == (1, 9, 32)
    np.testing.assert_allclose(dino.tokens(images[1:]).numpy(), tokens[1:].numpy(), atol=1e-5)


def test_default_target_layout_is_trellis_image_condition():
    from transformers import Dinov2WithRegistersConfig

    vitl14_reg = Dinov2WithRegistersConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                                           image_size=518, patch_size=14, num_register_tokens=4)
    layout = token_layout(vitl14_reg)
    assert (layout.tokens, layout.token_dim) == (1374, 1024) and layout.grid == 37 and layout.registers == 4
    config = aligner_config(layout, cond_dim=2048, width=64, depth=1, heads=4)
    assert (config.tokens, config.token_dim, config.cond_dim, config.grid) == (1374, 1024, 2048, 37)
    with pytest.raises(Text3DError, match="multiple of the patch size"):
        token_layout(vitl14_reg, image_size=500)


def test_end_to_end_aligner_step_and_tokens_into_trellis_image(qwen, dino):
    from text3d.generators.backends.trellis import TrellisImageGenerator
    from text3d.generators.base import Condition
    from text3d.nn.aligner import AlignerDiT
    from text3d.nn.aligner_flow import aligner_euler_sample, aligner_flow_loss

    torch.manual_seed(0)
    config = aligner_config(dino.layout, cond_dim=qwen.hidden_size, width=32, depth=1, heads=2, null_tokens=2)
    aligner = AlignerDiT(config)
    optimizer = torch.optim.AdamW([*aligner.parameters(), qwen.soft], lr=1e-2)
    x1 = dino.groups([image(0), image(1)])
    frozen = {k: v.clone() for k, v in list(qwen.vlm.state_dict().items())[:4]}
    soft_before, head_before = qwen.soft.detach().clone(), aligner.out["patches"].weight.detach().clone()
    qwen.train()
    cond, mask = qwen.encode(["a red chair", "a blue boat"])
    loss, parts = aligner_flow_loss(aligner, x1, cond, drop_prob=0.0, generator=torch.Generator().manual_seed(0),
                                    cond_mask=mask)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss) and set(parts) == {"cls", "registers", "patches"}
    assert not torch.equal(qwen.soft.detach(), soft_before) and not torch.equal(aligner.out["patches"].weight,
                                                                                 head_before)
    assert all(torch.equal(qwen.vlm.state_dict()[k], v) for k, v in frozen.items())  # the VLM did not move

    qwen.eval()
    with torch.no_grad():
        cond, mask = qwen.encode(["a red chair"])
    sampled = aligner_euler_sample(aligner, cond, steps=2, cfg=2.0, generator=torch.Generator().manual_seed(1),
                                   cond_mask=mask)
    tokens = join_groups(sampled)
    assert tokens.shape == (1, dino.layout.tokens, dino.layout.token_dim) and torch.isfinite(tokens).all()
    torch.testing.assert_close(split_groups(tokens, dino.layout)["patches"], sampled["patches"])
    generator = TrellisImageGenerator(pipeline=None, model="tiny", device=torch.device("cpu"))
    conditioning = generator.conditioning(Condition("a red chair", tokens=tokens[0].numpy()))
    torch.testing.assert_close(conditioning["cond"], tokens)
    assert conditioning["neg_cond"].shape == tokens.shape and not conditioning["neg_cond"].any()


@pytest.fixture
def no_network(monkeypatch):
    """Every outgoing connection attempt is recorded and refused."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.mark.parametrize("adapter, hub, env", [
    (QwenVLSoftPrompt, "Qwen/Qwen2.5-VL-3B-Instruct", "TEXT3D_WEIGHTS_QWEN_VL"),
    (Dinov2RegTarget, "facebook/dinov2-with-registers-large", "TEXT3D_WEIGHTS_DINOV2_REG")])
def test_missing_weights_is_one_line_and_never_downloads(adapter, hub, env, no_network, monkeypatch, tmp_path):
    monkeypatch.delenv(env, raising=False)
    from huggingface_hub import constants, try_to_load_from_cache

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # local_files_only alone must keep it offline
    try:  # huggingface_hub's user-agent lookup (not a model file) would otherwise count as an attempt
        from huggingface_hub.utils import _detect_agent

        monkeypatch.setattr(_detect_agent, "_fetch_registry", lambda: None, raising=False)
    except ImportError:
        pass

    if isinstance(try_to_load_from_cache(hub, "config.json"), str):
        pytest.skip(f"{hub} is in this machine's HF cache")
    with pytest.raises(ModelNotAvailableError) as info:
        adapter.from_pretrained(device="cpu")
    message = str(info.value)
    assert hub in message and env in message and "hf download" in message and "\n" not in message
    assert info.value.exit_code == 3 and no_network == []
    with pytest.raises(ModelNotAvailableError, match="looked in") as info:
        adapter.from_pretrained(str(tmp_path), device="cpu")
    assert "\n" not in str(info.value) and no_network == []
