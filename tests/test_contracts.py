"""One contract for every registered backend: generators, augmenters and feature extractors.

Each name in a registry goes through the same checks. A backend that runs here (the shipped
ones must) gives outputs of the declared types, shapes and ranges, the same for the same seed.
A backend whose packages, weights or server are absent gives one clear line instead: a
:class:`ModelNotAvailableError` or :class:`BackendError` that names it. Nothing reaches the
network: the hub is offline (``tests/conftest.py``) and servers point at a closed port.
Per-backend behaviour beyond the contract is tested beside each backend.
"""

import functools

import numpy as np
import pytest

from text3d.assets.asset import Asset
from text3d.encoders.base import MODALITIES, create_extractor, extractors
from text3d.errors import BackendError, InputError, ModelNotAvailableError
from text3d.generators import Condition, GeneratorOutput, create_generator, generators
from text3d.prompts.augment import augment, server_options
from text3d.prompts.base import augmenters
from text3d.prompts.rules import check_caption

PROMPT = "small blue sailboat"
CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: refused at once, nothing listens there

SHIPPED = {  # these run on any machine; every other backend may instead report what it misses
    "generator": {"embedded", "embedded-turbo", "procedural"},
    "augmenter": {"embedded", "none"},
    "extractor": {"embedded", "embedded-clip"},
}
AUGMENTER_MODELS = {"ollama": "qwen3:0.6b", "openai": "gpt-4o-mini", "hf": "text3d-tests/absent-model",
                    "llamacpp": "smollm2:135m"}
"""The model named with each augmenter that needs one; only llamacpp's (a packaged GGUF, the llm extra) runs here."""


def assert_clear(error: Exception, *names: str) -> None:
    """A one-line message that names each of ``names``."""
    message = str(error)
    assert message and "\n" not in message, message
    for name in names:
        assert name.lower() in message.lower(), (name, message)


def assert_unit_cube_asset(asset: Asset) -> None:
    assert isinstance(asset, Asset) and asset.n_faces > 0
    assert np.isfinite(asset.vertices).all() and np.abs(asset.vertices).max() <= 0.5 + 1e-5
    assert asset.faces.min() >= 0 and asset.faces.max() < asset.n_vertices
    if asset.vertex_colors is not None:
        assert asset.vertex_colors.shape == (asset.n_vertices, 4)
        colors = asset.vertex_colors
        assert np.isfinite(colors).all() and 0.0 <= colors.min() <= colors.max() <= 1.0


@pytest.mark.parametrize("name", generators.names())
def test_generator_contract(name):
    factory = generators.get(name)
    options = {"candidates": 2} if "candidates" in factory.options else {}  # the selector runs, at small cost
    try:
        generator = create_generator(name, **options)
    except ModelNotAvailableError as exc:
        assert name not in SHIPPED["generator"], exc
        assert_clear(exc, name)
        return
    first, again = (generator.generate(Condition(PROMPT), seed=3, steps=2) for _ in range(2))
    for output in (first, again):
        assert isinstance(output, GeneratorOutput) and isinstance(output.info, dict)
        assert all(isinstance(w, str) and "\n" not in w for w in output.warnings)
        assert_unit_cube_asset(output.asset)
    assert np.array_equal(first.asset.vertices, again.asset.vertices)
    assert np.array_equal(first.asset.faces, again.asset.faces)


@pytest.mark.parametrize("name", augmenters.names())
def test_augmenter_contract(name, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", CLOSED_PORT)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{CLOSED_PORT}/v1")
    model = AUGMENTER_MODELS.get(name, "")
    llm = f"{name}:{model}" if model else name
    try:
        results = [augment(PROMPT, llm=llm, seed=5, cache=False, **server_options(llm, 2.0)) for _ in range(2)]
    except (ModelNotAvailableError, BackendError) as exc:
        assert name not in SHIPPED["augmenter"], exc
        assert_clear(exc, "openai" if name == "openai" else name, *([model] if isinstance(exc, ModelNotAvailableError)
                                                                    else []))
        return
    first, again = results
    assert first.caption is not None and first.error is None and first.rules_passed
    assert check_caption(PROMPT, first.caption) == [] and first.backend == name
    assert again.caption == first.caption


def batch(modality: str, count: int = 3, point_channels: int = 3) -> list:
    """``count`` inputs of ``modality``: 64² RGB images, short texts, or 500-point clouds."""
    rng = np.random.default_rng(0)
    if modality == "image":
        return [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(count)]
    if modality == "text":
        return [PROMPT, "red ceramic mug", "a tall green cactus"][:count]
    return [rng.uniform(-0.5, 0.5, (500, point_channels)).astype(np.float32) for _ in range(count)]


def extractor_cases() -> list:
    """(name, modality) for every registered extractor and modality."""
    return [pytest.param(name, modality) for name in extractors.names() for modality in sorted(MODALITIES)]


@functools.cache
def extractor_or_error(name: str):
    """The extractor ``name`` with its default weights, or the error that says why not (built once)."""
    try:
        return create_extractor(name)
    except ModelNotAvailableError as exc:
        return exc


@pytest.mark.parametrize("name, modality", extractor_cases())
def test_extractor_contract(name, modality):
    factory = extractors.get(name)
    assert factory.modalities and factory.modalities <= MODALITIES
    extractor = extractor_or_error(name)
    if isinstance(extractor, ModelNotAvailableError):
        assert name not in SHIPPED["extractor"], extractor
        assert_clear(extractor, name)
        return
    features = {"image": extractor.image_features, "text": extractor.text_features,
                "points": extractor.point_features}[modality]
    inputs = batch(modality, point_channels=extractor.point_channels)
    if modality not in factory.modalities:
        with pytest.raises(InputError, match=name):
            features(inputs)
        return
    first, again = features(inputs), features(inputs)
    assert first.shape == (3, extractor.feature_dim(modality)) and first.dtype == np.float32
    assert np.isfinite(first).all() and np.array_equal(first, again)
