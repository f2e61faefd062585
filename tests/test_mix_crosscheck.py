"""Cross-checks of vislab.mix against fastai, timm and the Beta distribution (the notebook has the same checks inline)."""
import types
import warnings
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats
with warnings.catch_warnings():
    warnings.simplefilter('ignore', FutureWarning)
    import fastai.callback.mixup as fmix
    from fastai.losses import CrossEntropyLossFlat
from vislab.mix import (cutmix, mixup, cutmixup, draw_lam, soft_targets, mix_loss, SoftTargetCrossEntropy, CutMix,
                        MixUp, Cutout)
from vislab.kernels import paste_boxes_torch

def _fastai_cutmix(x, y, alpha):
    cb = fmix.CutMix(alpha)
    cb.learn = types.SimpleNamespace(xb=(x.clone(),), yb=(y,), loss_func=CrossEntropyLossFlat())
    cb.learn.x, cb.learn.y = cb.learn.xb[0], y
    cb.before_train(); cb.before_batch()
    return cb.learn.xb[0], cb.lam, cb.yb1[0]

@pytest.mark.parametrize('shape', [(8, 3, 17, 23), (5, 1, 28, 28), (2, 3, 32, 32)])
@pytest.mark.parametrize('alpha', [0.5, 1.0, 2.0])
def test_cutmix_per_batch_equals_fastai(shape, alpha):
    for seed in range(10):
        x, y = torch.randn(shape), torch.randint(0, 10, (shape[0],))
        torch.manual_seed(seed); xf, lam_f, yf = _fastai_cutmix(x, y, alpha)
        torch.manual_seed(seed); m = cutmix(x, alpha=alpha, per_batch=True)
        assert torch.equal(m.x, xf) and torch.equal(y[m.perm], yf)
        assert torch.equal(m.lam, lam_f.expand(shape[0]))

@pytest.mark.parametrize('backend', ['numba', 'torch'])
def test_cutmix_backends_identical(backend):
    x = torch.randn(33, 3, 20, 20)
    torch.manual_seed(0); a = cutmix(x, backend=backend)
    torch.manual_seed(0); b = cutmix(x, backend='torch')
    assert torch.equal(a.x, b.x) and torch.equal(a.x, paste_boxes_torch(x, a.perm, a.boxes))

@pytest.mark.parametrize('alpha', [0.4, 1.0, 2.0])
def test_lambda_follows_beta(alpha):
    torch.manual_seed(0)
    lam = mixup(torch.zeros(20000, 1), alpha=alpha).lam.numpy()
    assert stats.kstest(lam, 'beta', args=(alpha, alpha)).pvalue > 0.01
    assert stats.kstest(lam, 'beta', args=(2 * alpha, 2 * alpha)).pvalue < 1e-6
    assert stats.kstest(draw_lam(20000, alpha).numpy(), 'beta', args=(alpha, alpha)).pvalue > 0.01

def test_cutmix_lambda_is_exact_area():
    torch.manual_seed(1)
    m = cutmix(torch.zeros(500, 1, 24, 30))
    area = (m.boxes[:, 1] - m.boxes[:, 0]) * (m.boxes[:, 3] - m.boxes[:, 2])
    assert torch.allclose(m.lam, 1 - area / 720.)

def test_soft_targets_match_timm_and_sum_to_one():
    from timm.data.mixup import mixup_target
    y, lam = torch.randint(0, 10, (8,)), torch.rand(8)
    flip = torch.arange(7, -1, -1)
    for eps in (0., 0.1):
        t = soft_targets(y, flip, lam, 10, smoothing=eps)
        assert torch.allclose(t, mixup_target(y, 10, lam[:, None], smoothing=eps), atol=1e-6)
        assert torch.allclose(t.sum(1), torch.ones(8)) and (t >= 0).all()

@pytest.mark.parametrize('eps', [0., 0.1])
def test_loss_mixing_equals_soft_targets(eps):
    torch.manual_seed(2)
    pred, y = torch.randn(9, 5), torch.randint(0, 5, (9,))
    m = cutmixup(torch.randn(9, 1, 8, 8))
    a = mix_loss(CrossEntropyLossFlat(), pred, y, m.perm, m.lam, smoothing=eps)
    b = SoftTargetCrossEntropy()(pred, soft_targets(y, m.perm, m.lam, 5, smoothing=eps))
    assert torch.allclose(a, b, atol=1e-5) and torch.allclose(a, F.cross_entropy(pred, soft_targets(y, m.perm, m.lam, 5, eps)), atol=1e-5)

def test_callbacks_train_only_and_odd_batches():
    x, y = torch.randn(7, 1, 12, 12), torch.randint(0, 3, (7,))
    fake = types.SimpleNamespace(training=False, xb=(x,), yb=(y,), dls=types.SimpleNamespace(c=3))
    for cb in (CutMix(), MixUp(), Cutout()):
        cb.learn = fake; fake.xb = (x,)
        cb.before_batch(); assert fake.xb[0] is x                     # validation: untouched
    fake.training = True
    for cb in (CutMix(), MixUp()):
        cb.learn = fake; fake.xb = (x,)
        cb.before_batch()
        assert fake.xb[0].shape == x.shape and sorted(cb.mixed.perm.tolist()) == list(range(7))
