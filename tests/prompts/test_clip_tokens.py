import pytest

from text3d.data.toyworld.vocabulary import CATEGORIES
from text3d.prompts import clip_tokens
from text3d.prompts.clip_tokens import (
    clip_preprocess,
    clip_token_count,
    estimate_clip_tokens,
    fits_clip_window,
)
from text3d.prompts.embedded import embedded_caption


def test_counts_match_clip_bpe_including_start_and_end_tokens():
    # CLIP's tokenizer encodes "a person riding a motorcycle" as [320, 2533, 6765, 320, 10297]
    assert clip_token_count("A person riding a motorcycle") == 5 + 2
    assert clip_token_count("") == 2
    assert clip_token_count("2024") == 4 + 2  # CLIP splits numbers into single digits


def test_preprocessing_unescapes_html_and_collapses_whitespace():
    assert clip_preprocess("Tom &amp;amp; Jerry \n  BOAT") == "tom & jerry boat"
    assert clip_token_count("a   Boat") == clip_token_count("a boat")


def test_window_is_77_tokens():
    assert fits_clip_window("a boat " * 37)  # 74 tokens + 2
    assert not fits_clip_window("a boat " * 38)


def realistic_captions() -> list[str]:
    captions = [embedded_caption(f"{color} {info.noun}", seed)
                for info in CATEGORIES.values() for color, seed in (("red", 0), ("grey", 1))]
    captions += [
        "A vintage brass telescope with a polished tripod, engraved eyepiece and weathered leather grip.",
        "An iridescent, translucent chrysanthemum-shaped kaleidoscope; photorealistic, highly-detailed.",
        "A steampunk mechanical owl with copper gears, glowing amber eyes (2 of them) & riveted wings!",
        "A hippopotamus-shaped xylophone, 12 keys, lacquered mahogany — children's toy, 30cm tall.",
    ]
    return captions


def test_the_fallback_estimate_never_undercounts_realistic_english():
    for caption in realistic_captions():
        assert estimate_clip_tokens(caption) >= clip_token_count(caption), caption


def test_the_estimate_is_used_when_the_tokenizer_is_missing(monkeypatch):
    monkeypatch.setattr(clip_tokens, "_tokenizer", lambda: None)
    text = "A small blue sailboat with a white sail."
    assert clip_token_count(text) == estimate_clip_tokens(text)


@pytest.mark.parametrize("text", ["A small blue sailboat.", "chrysanthemum"])
def test_the_estimate_is_an_upper_bound_per_word(text):
    assert estimate_clip_tokens(text) >= clip_token_count(text)
