"""Image preprocessing with Pillow and numpy (no torchvision): RGB conversion, resizing,
centre cropping and per-channel normalization into NCHW float32 batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from text3d.errors import InputError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def to_rgb_uint8(image: np.ndarray, background: float = 255.0) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8 → (H, W, 3) uint8; alpha is composited
    over ``background`` (white, the renders' default)."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise InputError(f"images must be uint8 arrays, got {array.dtype}")
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise InputError(f"images must be (H, W, 3) arrays, got shape {array.shape}")
    if array.shape[2] == 1:
        return np.repeat(array, 3, axis=2)
    if array.shape[2] == 4:
        alpha = array[..., 3:4].astype(np.float32) / 255.0
        rgb = array[..., :3].astype(np.float32) * alpha + background * (1.0 - alpha)
        return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    return array


def resize_shortest_edge_and_crop(image: np.ndarray, shortest_edge: int, crop: int,
                                  resample: int = Image.BICUBIC) -> Image.Image:
    """Resize so the shorter side is ``shortest_edge`` (longer side ⌊edge·long/short⌋), then
    centre-crop ``crop``×``crop`` at offset ⌊(side − crop)/2⌋ (CLIP preprocessing)."""
    pil = Image.fromarray(to_rgb_uint8(image))
    width, height = pil.size
    if width <= height:
        size = (shortest_edge, int(shortest_edge * height / width))
    else:
        size = (int(shortest_edge * width / height), shortest_edge)
    pil = pil.resize(size, resample=resample)
    left = (size[0] - crop) // 2  # as transformers' center_crop
    top = (size[1] - crop) // 2
    return pil.crop((left, top, left + crop, top + crop))


def normalize_batch(images: Sequence[Image.Image | np.ndarray], mean: Sequence[float],
                    std: Sequence[float]) -> np.ndarray:
    """PIL images / uint8 arrays of one size → (N, 3, H, W) float32 of (x/255 − mean)/std."""
    batch = np.stack([np.asarray(img, dtype=np.float32) for img in images]) / 255.0
    batch = (batch - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


def batches(count: int, size: int) -> list[slice]:
    """Slices covering range(count) in chunks of ``size``."""
    return [slice(start, min(start + size, count)) for start in range(0, count, max(1, size))]
