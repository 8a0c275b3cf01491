"""``--conditioning gap3d``: the caption's generated image-encoder tokens reach the generator's image path."""

import pytest
import torch

from tests.train.test_aligner import TINY, FakePairs
from text3d.align.sampling import TokenAligner
from text3d.errors import InputError
from text3d.runs.pipeline import Pipeline, generate
from text3d.train.run_aligner import train_aligner


@pytest.fixture(scope="module")
def aligner_folder(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("aligner")
    train_aligner(out, TINY, pair_source=FakePairs(), progress=False)
    torch.set_num_threads(threads)
    return out / "aligner-stage1"


def test_generated_tokens_condition_the_generator(aligner_folder):
    pipeline = Pipeline(conditioning="gap3d", aligner=str(aligner_folder), candidates=1, steps=2)
    seen = []
    original = pipeline.generator.generate

    def spy(condition, **kwargs):
        seen.append(condition)
        return original(condition, **kwargs)

    pipeline.generator.generate = spy
    result = pipeline("red wooden chair", seed=3)
    expected = TokenAligner.from_pretrained(aligner_folder)(result.caption, 3)
    assert seen[0].tokens.shape == (1 + 4 + 64, 192) and torch.equal(seen[0].tokens, expected)
    assert result.info["conditioning"]["kind"] == "gap3d" and "align" in result.timings
    assert result.asset.n_faces > 0


@pytest.mark.parametrize("kwargs, message", [
    ({"conditioning": "gap3d", "backend": "procedural"}, "takes no image-encoder tokens"),
    ({"conditioning": "words"}, "use one of"),
    ({"aligner": "/somewhere"}, "only with --conditioning gap3d"),
])
def test_refusals_come_before_any_output(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        generate("red chair", out=tmp_path / "a", **kwargs)
    assert not (tmp_path / "a").exists()
