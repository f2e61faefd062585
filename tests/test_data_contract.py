"""What other modules and stored results rely on in `vislab.data.core`'s loaders.

The batches are a reproducibility contract: the runs in results/ were made with them, so the same seed must give the
same images, in the same order, with the same augmentation. The digests below were taken from the loaders before the
dataset registry was introduced (images recovered to uint8, so the last bit of a float cannot matter)."""
import hashlib
import pytest
import torch
from vislab.data.core import get_dls

def digest(dl, n_batches: int = 3) -> str:
    "Hash of the labels and the (denormalised, uint8) images of the first `n_batches` batches of one pass over `dl`."
    mean, std = (s[None, :, None, None] for s in dl.stats)
    h = hashlib.sha256()
    for _, (x, y) in zip(range(n_batches), dl):
        h.update(y.numpy().tobytes())
        h.update(((x * std + mean) * 255).round().clamp(0, 255).to(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]

@pytest.mark.parametrize('kwargs, first, second', [
    (dict(seed=0), 'af202e7549325be0', '503bfc29c893a77a'),
    (dict(seed=1, n_train=512, bs=64), 'eda0d381d509c68f', 'af8e00a4196651a0'),
    (dict(seed=0, imbalance=10), '58ee57b161dab38f', 'b3f54364b1811d3e'),
])
def test_batches_unchanged(kwargs, first, second):
    dls = get_dls('mnist5k', device='cpu', **kwargs)
    assert (digest(dls.train), digest(dls.train)) == (first, second)   # epoch 1, then epoch 2

def test_plain_tensors_and_settable_stats():
    "Batches are plain tensors (models, losses and mixing code expect them); `dl.stats` can be swapped (`lab` does)."
    dls = get_dls('digits', bs=16, device='cpu')
    x, y = dls.valid.one_batch()
    assert type(x) is torch.Tensor and type(y) is torch.Tensor
    mean, std = dls.stats
    dls.valid.stats = (torch.zeros(1), torch.ones(1))                    # no normalisation: pixels in [0, 1]
    torch.testing.assert_close(dls.valid.one_batch()[0], x * std + mean)
    assert len(dls.train_ds) == 1437
