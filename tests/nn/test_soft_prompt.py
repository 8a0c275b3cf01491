import pytest
import torch

from text3d.nn.bert import BertConfig, BertModel
from text3d.nn.soft_prompt import SoftPromptEncoder


def tiny_bert(seed: int = 0) -> BertModel:
    """A 1-layer random BERT of width 384 (the released layers skip their random init: fill them here)."""
    config = BertConfig(vocab_size=50, hidden_size=384, num_hidden_layers=1, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=32)
    model = BertModel(config)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" not in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return model


def prompts() -> tuple[torch.Tensor, torch.Tensor]:
    """Two right-padded prompts: 6 and 4 real tokens ([CLS]=1 … [SEP]=2, padding 0)."""
    ids = torch.tensor([[1, 7, 8, 9, 10, 2], [1, 11, 12, 2, 0, 0]])
    mask = (ids != 0).long()
    return ids, mask


def test_condition_shape_and_prompt_dependence():
    torch.manual_seed(0)
    encoder = SoftPromptEncoder(tiny_bert(), soft_tokens=3)
    ids, mask = prompts()
    cond, cond_mask = encoder(ids, mask)
    assert cond.shape == (2, 3, 384) and cond_mask.shape == (2, 3) and cond_mask.all()
    assert torch.isfinite(cond).all()
    assert not torch.allclose(cond[0], cond[1], atol=1e-4)  # different prompts, different C
    other = ids.clone()
    other[0, 3] = 20  # change one word of the first prompt
    changed, _ = encoder(other, mask)
    assert not torch.allclose(changed[0], cond[0], atol=1e-4)
    assert torch.allclose(changed[1], cond[1], atol=1e-6)


def test_condition_is_read_at_the_soft_tokens_after_the_prompt():
    torch.manual_seed(0)
    bert = tiny_bert()
    encoder = SoftPromptEncoder(bert, soft_tokens=3)
    ids, mask = prompts()
    cond, _ = encoder(ids, mask)
    # by hand for the short prompt alone: [its 4 tokens, soft tokens], no padding anywhere
    words = bert.get_input_embeddings()(ids[1:, :4])
    states = bert(inputs_embeds=torch.cat([words, encoder.soft[None]], dim=1))
    assert torch.allclose(cond[1], states[0, 4:], atol=1e-5)
    # so C of a prompt does not depend on the padding its batch gives it
    alone, _ = encoder(ids[1:, :4], mask[1:, :4])
    assert torch.allclose(alone[0], cond[1], atol=1e-5)
    with pytest.raises(ValueError):
        encoder(ids, mask.flip(1))  # left padding is refused


def test_gradients_reach_soft_tokens_only():
    torch.manual_seed(0)
    encoder = SoftPromptEncoder(tiny_bert(), soft_tokens=2).train()
    assert not encoder.bert.training  # the frozen encoder stays in eval mode
    ids, mask = prompts()
    cond, _ = encoder(ids, mask)
    (cond ** 2).sum().backward()
    assert encoder.soft.grad is not None and (encoder.soft.grad.abs().sum(dim=1) > 0).all()
    assert all(not p.requires_grad and p.grad is None for p in encoder.bert.parameters())
    assert [name for name, p in encoder.named_parameters() if p.requires_grad] == ["soft"]
