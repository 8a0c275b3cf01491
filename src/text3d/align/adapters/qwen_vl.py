"""Qwen2.5-VL as GAP3D's frozen VLM: soft tokens read out of its last layer give the condition C.

GAP3D (Gkotsi et al., 2026), §4.1.1 and §5.1.2: s trainable soft tokens are appended to the input
embeddings of the prompt (with the model's chat template applied), the frozen Qwen2.5-VL-3B-Instruct
runs once over the sequence (``inputs_embeds``), and its last layer's hidden states at the soft tokens'
positions (after the final RMSNorm, what the LM head reads) are C (B, s, hidden), hidden = 2048 for the
3B model. Only the soft tokens train. A multimodal prompt (§5.5: an image plus an instruction) takes the
model's image path — the vision tower's merged patch features replace the ``<|image_pad|>`` placeholders
and the sequence gets Qwen2-VL's 3D rotary positions (M-RoPE) — and the soft tokens still go last.

The decoder is causal, so the soft tokens go right after each prompt's last token, before its padding:
row b becomes [prompt_b (n_b), soft (s), padding], and C of a prompt does not depend on the other
prompts of its batch (the same layout as :class:`text3d.nn.soft_prompt.SoftPromptEncoder`).

Prompts are prepared from the model folder's tokenizer and image processor rather than ``AutoProcessor``:
the full processor also builds a video processor (which needs torchvision) that the image + text path
does not use. Expanding each image placeholder to its number of merged patches is the only step of the
processor this needs. Weights load offline through :func:`text3d.encoders.hf.load_pretrained`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from text3d.device import resolve_device
from text3d.encoders.base import resolve_weights
from text3d.encoders.hf import hf_weights_id, load_pretrained, read_json_file
from text3d.encoders.preprocess import to_rgb_uint8
from text3d.errors import InputError
from text3d.nn.soft_prompt import FrozenSoftPrompt, splice_soft_tokens

log = logging.getLogger(__name__)

NAME = "qwen2.5-vl"
HUB_ID = "Qwen/Qwen2.5-VL-3B-Instruct"
ENV_VAR = "TEXT3D_WEIGHTS_QWEN_VL"
IMAGE_TOKEN = "<|image_pad|>"


def _text_config(config: Any) -> Any:
    return getattr(config, "text_config", None) or config


class QwenVLSoftPrompt(FrozenSoftPrompt):
    """(input_ids (B, L), attention_mask (B, L)[, pixel_values, image_grid_thw]) → (C (B, s, hidden), mask (B, s)).

    The wrapped ``Qwen2_5_VLForConditionalGeneration`` is frozen (``requires_grad`` off, eval mode);
    gradients flow through it to the soft tokens ``soft`` (s, hidden), initialized N(0, init_std²).
    :meth:`encode` takes strings (and images); :meth:`forward` takes right-padded token ids as
    :meth:`tokenize` makes them.
    """

    backbone_attr = "vlm"

    def __init__(self, vlm: Any, tokenizer: Any, image_processor: Any = None, soft_tokens: int = 64,
                 init_std: float = 0.02, chat_template: str | None = None) -> None:
        super().__init__(vlm, soft_tokens, int(_text_config(vlm.config).hidden_size), init_std)
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.chat_template = chat_template or getattr(tokenizer, "chat_template", None)
        if not self.chat_template:
            raise InputError(f"{NAME}: the tokenizer has no chat template (tokenizer_config.json, chat_template.json "
                             "or chat_template.jinja of the model folder)")
        config = vlm.config
        self.image_token_id = int(config.image_token_id)
        self.merge_size = int(config.vision_config.spatial_merge_size)
        vision_ids = {self.image_token_id, int(config.video_token_id), int(config.vision_start_token_id),
                      int(getattr(config, "vision_end_token_id", -1))}
        # Id standing for the soft slots and the padding where token ids are needed (M-RoPE indices):
        # any plain text token; their embeddings are replaced or masked.
        self.filler_id = min(set(range(len(vision_ids) + 1)) - vision_ids)
        self.weights_id = ""

    @classmethod
    def from_pretrained(cls, weights: str | None = None, soft_tokens: int = 64, device: str | None = None,
                        dtype: torch.dtype | None = None, init_std: float = 0.02) -> "QwenVLSoftPrompt":
        """Load ``weights`` (a folder or a cached hub id; else ``$TEXT3D_WEIGHTS_QWEN_VL``, else
        ``Qwen/Qwen2.5-VL-3B-Instruct``) without downloading; missing weights raise one line."""
        from transformers import AutoImageProcessor, AutoTokenizer, Qwen2_5_VLForConditionalGeneration

        source = resolve_weights(weights, ENV_VAR, HUB_ID)
        tokenizer = load_pretrained(AutoTokenizer, source, NAME, HUB_ID, ENV_VAR, local_files_only=True)
        image_processor = load_pretrained(AutoImageProcessor, source, NAME, HUB_ID, ENV_VAR, local_files_only=True)
        extra = {"dtype": dtype} if dtype is not None else {}
        vlm = load_pretrained(Qwen2_5_VLForConditionalGeneration, source, NAME, HUB_ID, ENV_VAR,
                              local_files_only=True, **extra)
        template = getattr(tokenizer, "chat_template", None) or read_json_file(source, "chat_template.json").get(
            "chat_template")
        encoder = cls(vlm, tokenizer, image_processor, soft_tokens, init_std, template)
        encoder.weights_id = hf_weights_id(source)
        log.info("loaded %s from %s (hidden %d, %d soft tokens)", NAME, source, encoder.hidden_size, soft_tokens)
        return encoder.to(resolve_device(device))

    def tokenize(self, texts: Sequence[str], images: Sequence[Any] | None = None) -> dict[str, torch.Tensor]:
        """Chat-templated prompts → {input_ids (B, L), attention_mask (B, L)} right-padded, plus
        {pixel_values (P, C·T·p²), image_grid_thw (I, 3)} when some prompt has an image (``images[b]``: a
        uint8 (H, W, 3|4) array, a PIL image, or None for a text-only prompt)."""
        texts = list(texts)
        images = list(images) if images is not None else [None] * len(texts)
        if len(images) != len(texts):
            raise InputError(f"{len(texts)} prompts but {len(images)} images")
        present = [self._pil(img) for img in images if img is not None]
        vision: dict[str, torch.Tensor] = {}
        if present:
            if self.image_processor is None:
                raise InputError(f"{NAME}: an image prompt needs the model's image processor")
            out = self.image_processor(images=present, return_tensors="pt")
            vision = {"pixel_values": out["pixel_values"], "image_grid_thw": out["image_grid_thw"].long()}
        rows, grids = [], iter(vision.get("image_grid_thw", ()))
        for text, image in zip(texts, images):
            content = ([{"type": "image"}] if image is not None else []) + [{"type": "text", "text": text}]
            prompt = self.tokenizer.apply_chat_template([{"role": "user", "content": content}],
                                                        chat_template=self.chat_template,
                                                        add_generation_prompt=True, tokenize=False)
            if image is not None:  # one placeholder per merged patch of the image
                count = int(next(grids).prod()) // self.merge_size ** 2
                if prompt.count(IMAGE_TOKEN) != 1:
                    raise InputError(f"{NAME}: the chat template must place one {IMAGE_TOKEN} per image")
                prompt = prompt.replace(IMAGE_TOKEN, IMAGE_TOKEN * count)
            rows.append(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        length = max((len(r) for r in rows), default=0)
        ids = torch.full((len(rows), length), self.filler_id, dtype=torch.long)
        mask = torch.zeros(len(rows), length, dtype=torch.long)
        for b, row in enumerate(rows):
            ids[b, :len(row)] = torch.tensor(row, dtype=torch.long)
            mask[b, :len(row)] = 1
        return {"input_ids": ids, "attention_mask": mask, **vision}

    @staticmethod
    def _pil(image: Any) -> Any:
        from PIL import Image

        if isinstance(image, Image.Image):
            return image.convert("RGB")
        return Image.fromarray(to_rgb_uint8(np.asarray(image)))

    def encode(self, texts: Sequence[str], images: Sequence[Any] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """C (B, s, hidden) float32 and its all-True mask (B, s) of ``texts`` (with optional ``images``)."""
        device = self.soft.device
        return self(**{k: v.to(device) for k, v in self.tokenize(texts, images).items()})

    def _positions(self, ids: torch.Tensor, mask: torch.Tensor, grid: torch.Tensor | None) -> torch.Tensor:
        """Rotary positions (3, B, L): 0, 1, … per row for text; Qwen2-VL's M-RoPE indices with images."""
        b, length = ids.shape
        if grid is None:
            return torch.arange(length, device=ids.device).view(1, 1, -1).expand(3, b, -1)
        backbone = self.vlm.model
        extra = {}
        if "mm_token_type_ids" in inspect.signature(backbone.get_rope_index).parameters:
            extra["mm_token_type_ids"] = (ids == self.image_token_id).int()
        positions, _ = backbone.get_rope_index(input_ids=ids, image_grid_thw=grid, attention_mask=mask, **extra)
        return positions

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                pixel_values: torch.Tensor | None = None,
                image_grid_thw: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Last-layer hidden states at the soft tokens' positions (B, s, hidden) float32 and an all-True mask (B, s).

        ``attention_mask`` must be right padding (each row's ones first); None means no padding.
        """
        if (pixel_values is None) != (image_grid_thw is None):
            raise ValueError("pixel_values and image_grid_thw go together")
        words = self.vlm.get_input_embeddings()(input_ids)  # (B, L, D)
        splice = splice_soft_tokens(words, self.soft, attention_mask, "QwenVLSoftPrompt")
        # the soft slots carry a filler id, so the rope index does not take them for image tokens
        ids = torch.where(splice.is_prompt, input_ids.gather(1, splice.source),
                          torch.full_like(splice.source, self.filler_id))
        grid = None if image_grid_thw is None else image_grid_thw.to(input_ids.device)
        # The backbone puts the vision tower's features where the embeddings are the image placeholder's.
        position_ids = self._positions(ids, splice.mask, grid)  # (3, B, L + s)
        out = self.vlm.model(inputs_embeds=splice.embeds, attention_mask=splice.mask, position_ids=position_ids,
                             pixel_values=pixel_values, image_grid_thw=grid, use_cache=False)
        return splice.read_out(out.last_hidden_state)  # (B, L + s, D), after the final RMSNorm

