"""``--conditioning gap3d``: the caption's generated image-encoder tokens reach the generator's image path."""

import pytest
import torch

from tests.train.test_aligner import TINY, FakePairs
from text3d.align.sampling import TokenAligner, sampling_settings, write_sampling
from text3d.errors import InputError
from text3d.runs.pipeline import Pipeline, generate, generate_batch
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


def test_a_run_made_with_other_weights_or_sampling_at_the_same_path_is_not_resumed(aligner_folder, tmp_path):
    import shutil

    folder = tmp_path / "aligner"
    shutil.copytree(aligner_folder, folder)
    before = TokenAligner.from_pretrained(folder).describe()
    generate_batch(["red chair"], tmp_path / "run", conditioning="gap3d", aligner=str(folder), candidates=1,
                   steps=1, views=(), progress=False)
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one bit of the last weight: other weights, same path
    weights.write_bytes(bytes(data))
    after = TokenAligner.from_pretrained(folder).describe()
    assert after["aligner"] == before["aligner"] and after["weights_sha256"] != before["weights_sha256"]
    with pytest.raises(InputError, match="other settings"):
        generate_batch(["red chair"], tmp_path / "run", conditioning="gap3d", aligner=str(folder), candidates=1,
                       steps=1, views=(), progress=False)
    assert generate_batch(["red chair"], tmp_path / "again", conditioning="gap3d", aligner=str(folder),
                          candidates=1, steps=1, views=(), progress=False)["done"] == 1
    moved = tmp_path / "moved"
    shutil.copytree(folder, moved)  # the same weights elsewhere (a copy of the repository): the run resumes
    assert generate_batch(["red chair"], tmp_path / "again", conditioning="gap3d", aligner=str(moved),
                          candidates=1, steps=1, views=(), progress=False)["done"] == 0
    write_sampling(moved, {**sampling_settings(moved), "temperature": 0.5})  # same weights, other sampling
    with pytest.raises(InputError, match="other settings"):
        generate_batch(["red chair"], tmp_path / "again", conditioning="gap3d", aligner=str(moved), candidates=1,
                       steps=1, views=(), progress=False)


@pytest.mark.parametrize("kwargs, message", [
    ({"conditioning": "gap3d", "backend": "procedural"}, "takes no image-encoder tokens"),
    ({"conditioning": "words"}, "use one of"),
    ({"aligner": "/somewhere"}, "only with --conditioning gap3d"),
])
def test_refusals_come_before_any_output(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        generate("red chair", out=tmp_path / "a", **kwargs)
    assert not (tmp_path / "a").exists()


class FixedTokens:
    """A TokenSource giving the same tokens to every caption, recording what it was asked."""

    def __init__(self):
        self.calls = []
        self.tokens = torch.randn(1 + 4 + 64, 192, generator=torch.Generator().manual_seed(0))

    def __call__(self, text, seed=0):
        self.calls.append((text, seed))
        return self.tokens

    def describe(self):
        return {"kind": "fixed-tokens"}


def test_a_batch_takes_any_token_source_and_records_it(tmp_path):
    import yaml

    from text3d.runs.pipeline import generate_batch
    from text3d.store.folders import RunFolder

    source = FixedTokens()
    prompts = ["red wooden chair", "blue mug"]
    counts = generate_batch(prompts, tmp_path / "run", augment="none", seed=10, steps=2, resolution=32,
                            progress=False, conditioning="gap3d", aligner=source)
    assert counts["done"] == 2 and source.calls == [("red wooden chair", 10), ("blue mug", 11)]
    config = yaml.safe_load((tmp_path / "run" / "run.yaml").read_text())
    assert config["conditioning"] == "gap3d" and config["aligner"] == {"kind": "fixed-tokens"}
    run = RunFolder(tmp_path / "run")
    metas = [run.item(row["id"]).read_meta() for row in run.manifest.rows().values()]
    assert all(m["info"]["conditioning"] == {"kind": "fixed-tokens"} for m in metas)
    with pytest.raises(InputError, match="other settings|other job|another"):  # a text run is another job
        generate_batch(prompts, tmp_path / "run", augment="none", seed=10, steps=2, resolution=32, progress=False)


def test_an_unset_group_cfg_is_not_recorded_so_earlier_runs_resume():
    from text3d.align.sampling import aligner_record

    assert "group_cfg" not in TokenAligner.from_pretrained().describe()
    assert "group_cfg" not in aligner_record(None)["sampling"]
