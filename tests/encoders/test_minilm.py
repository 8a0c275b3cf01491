"""text3d's own MiniLM (BERT forward + tokenizer.json) against transformers' BertModel and tokenizer."""

import pytest
import torch

from text3d.data.toyworld.vocabulary import CATEGORIES
from text3d.encoders.minilm import MiniLMTextEncoder

TEXTS = [
    "red wooden chair",
    "A chair with a padded red wooden seat, a tall red wooden back and four straight red wooden legs; "
    "a single object on a plain background.",
    "crimson yacht", "a photo of a toy teddy bear", "two small blue cubes", "",
    "Crème brûlée in a café — naïve ÉLAN, 東京 tower, emoji 🙂, tab\tand  spaces",
    "a very long caption " + "with many repeated words and commas, " * 20,  # truncated at 64 tokens
    "state-of-the-art 3-D asset: 12 legs, 3.5 m, (brackets) [square] {curly} don't O'Neil's",
]


@pytest.fixture(scope="module")
def encoders():
    return (MiniLMTextEncoder.from_pretrained(device="cpu"),
            MiniLMTextEncoder.from_pretrained(device="cpu", implementation="transformers"))


def test_tokenizer_json_matches_transformers_tokenizer(encoders):
    ours, reference = encoders
    words = sorted({w for info in CATEGORIES.values() for w in info.words})
    for batch in ([t] for t in TEXTS + words[:40]):
        a, b = ours.tokenize(batch), reference.tokenize(batch)
        assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["attention_mask"], b["attention_mask"])
    for batch in (TEXTS, words):  # padded batches, and a truncated one
        a, b = ours.tokenize(batch), reference.tokenize(batch)
        assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["attention_mask"], b["attention_mask"])
    assert ours.tokenize(TEXTS)["input_ids"].shape[1] == 64
    a, b = ours.tokenize(TEXTS, max_length=16), reference.tokenize(TEXTS, max_length=16)
    assert torch.equal(a["input_ids"], b["input_ids"])


def test_own_bert_forward_matches_transformers_bert_model(encoders):
    ours, reference = encoders
    assert type(reference.model).__name__ == "BertModel" and type(ours.model).__module__ == "text3d.nn.bert"
    for batch in ([TEXTS[0]], TEXTS[:2], TEXTS):  # no padding (SDPA without a mask), padding, truncation
        a, b = ours.encode(batch), reference.encode(batch)
        assert (a.tokens - b.tokens).abs().max().item() < 1e-5
        assert (a.pooled - b.pooled).abs().max().item() < 1e-5
        assert torch.equal(a.mask, b.mask)


def test_own_bert_gradients_match_transformers(encoders):
    ours, reference = encoders
    grads = []
    for encoder in encoders:
        batch = encoder.tokenize(TEXTS[:2])
        embeds = encoder.embed_tokens(batch["input_ids"]).detach().requires_grad_(True)
        states, pooled = encoder.forward_embeddings(embeds, batch["attention_mask"])
        pooled[:, :8].sum().backward()
        grads.append(embeds.grad)
    assert (grads[0] - grads[1]).abs().max().item() < 1e-5


def test_default_encoder_does_not_import_transformers():
    import subprocess
    import sys

    code = ("import sys; from text3d.encoders.minilm import shared_text_encoder; "
            "shared_text_encoder('cpu').encode(['red chair']); "
            "print(any(m == 'transformers' or m.startswith('transformers.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_unknown_implementation_is_refused():
    with pytest.raises(ValueError, match="implementation"):
        MiniLMTextEncoder.from_pretrained(implementation="onnx")


def test_the_shared_encoder_first_made_in_inference_mode_still_trains_a_soft_prompt(monkeypatch):
    """The embedded generator asks for it inside inference_mode; GAP3D's trainer later backpropagates through it."""
    import torch

    from text3d.encoders import minilm

    monkeypatch.setattr(minilm, "_SHARED", {})
    with torch.inference_mode():
        encoder = minilm.shared_text_encoder("cpu")
    assert not any(p.is_inference() for p in encoder.model.parameters())
