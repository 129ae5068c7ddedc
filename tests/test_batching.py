"""The one length-bucketing batcher and padder (seqlab.batching) shared by the LM, classifiers
and translation."""

import torch

from seqlab.batching import bucket_batches, pad_sequences


def test_every_index_once_and_batches_of_similar_length():
    lengths = [1 + i % 9 for i in range(500)]
    batches = bucket_batches(lengths, 16, torch.Generator().manual_seed(0))
    flat = sorted(i for b in batches for i in b.tolist())
    assert flat == list(range(500))
    spread = sum(max(lengths[i] for i in b.tolist()) - min(lengths[i] for i in b.tolist()) for b in batches)
    assert spread / len(batches) < 2  # shuffled order would give ~6 on average
    unsorted = [torch.arange(500)[i : i + 16] for i in range(0, 500, 16)]
    assert (
        sum(max(lengths[i] for i in b.tolist()) - min(lengths[i] for i in b.tolist()) for b in unsorted) / 32
        > 6
    )


def test_same_generator_state_same_batches_and_new_epochs_differ():
    lengths = torch.randint(1, 30, (300,), generator=torch.Generator().manual_seed(1))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    e1 = [b.tolist() for b in bucket_batches(lengths, 8, g1)]
    assert e1 == [b.tolist() for b in bucket_batches(lengths, 8, g2)]
    assert e1 != [b.tolist() for b in bucket_batches(lengths, 8, g1)]  # the next epoch reshuffles


def test_drop_last_keeps_only_full_batches():
    batches = bucket_batches(
        list(range(1, 104)), 10, torch.Generator().manual_seed(0), pool=5, drop_last=True
    )
    assert all(len(b) == 10 for b in batches)
    assert len(batches) == 10  # pools of 50, 50, 3: the 3 leftovers are dropped


def test_without_generator_sorted_by_length():
    lengths = [5, 2, 9, 3]
    assert [b.tolist() for b in bucket_batches(lengths, 2)] == [[1, 3], [0, 2]]
    assert bucket_batches([], 4) == []


def test_pad_sequences():
    out, lens = pad_sequences([[3, 4, 5], [6], []], pad_id=-1)
    assert out.tolist() == [[3, 4, 5], [6, -1, -1], [-1, -1, -1]]
    assert lens.tolist() == [3, 1, 0] and out.dtype == torch.long
    out, _ = pad_sequences([[], []], min_length=2)
    assert out.shape == (2, 2)
