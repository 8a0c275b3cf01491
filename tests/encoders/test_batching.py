"""padded_batch: the batch shape every image encoder sees."""

from text3d.encoders.batching import MIN_BATCH, padded_batch


def test_padded_batch_repeats_cyclically_to_a_multiple_of_four_and_at_least_min_batch():
    assert padded_batch([]) == []
    assert padded_batch(["a", "b", "c"]) == ["a", "b", "c"] + ["a", "b", "c"] * 4 + ["a"]
    assert len(padded_batch(list(range(MIN_BATCH - 1)))) == MIN_BATCH
    assert padded_batch(list(range(17))) == list(range(17)) + [0, 1, 2]
    assert padded_batch(list(range(20))) == list(range(20))
