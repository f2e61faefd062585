"""CPU kernels of `vislab.kernels` against plain torch, bit for bit, and their dispatch, checks and cache rules.

The CUDA kernels are tested in Numba's simulator by tests/test_kernels_cudasim.py, in a process of its own:
    NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/test_kernels_cudasim.py
and on a real GPU by `test_cuda_matches_torch` below when one is present."""
import os
import pytest
import torch
import vislab.kernels as K
from vislab.kernels import mix as M
from vislab.kernels import _cuda

def _draw(n, h, w, seed=0, empty_every=0):
    g = torch.Generator().manual_seed(seed)
    y0, x0 = torch.randint(0, h + 1, (n,), generator=g), torch.randint(0, w + 1, (n,), generator=g)
    y1 = y0 + (torch.rand(n, generator=g) * (h + 1 - y0)).long()
    x1 = x0 + (torch.rand(n, generator=g) * (w + 1 - x0)).long()
    boxes = torch.stack([y0, y1.clamp(max=h), x0, x1.clamp(max=w)], 1)
    if empty_every: boxes[::empty_every] = 0
    return torch.randperm(n, generator=g), boxes

def _reference_paste(x, perm, boxes):
    out = x.clone()
    for i, (y0, y1, x0, x1) in enumerate(boxes.tolist()): out[i, :, y0:y1, x0:x1] = x[perm[i], :, y0:y1, x0:x1]
    return out

SHAPES = [(1, 1, 1, 1), (7, 3, 9, 11), (5, 2, 32, 17), (16, 4, 8, 8)]
DTYPES = [torch.float32, torch.float64, torch.uint8, torch.int32]

@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('dtype', DTYPES)
def test_paste_matches_reference(shape, dtype):
    n, c, h, w = shape
    x = (torch.rand(shape) * 200).to(dtype)
    perm, boxes = _draw(n, h, w, seed=n * h, empty_every=3)
    ref = _reference_paste(x, perm, boxes)
    assert torch.equal(K.paste_boxes(x, perm, boxes, backend='numba'), ref)
    for method in ('loop', 'where', 'auto'): assert torch.equal(K.paste_boxes_torch(x, perm, boxes, method=method), ref)
    out = torch.full_like(x, 7)
    assert K.paste_boxes(x, perm, boxes, out=out, backend='numba') is out and torch.equal(out, ref)

@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('dtype', DTYPES)
def test_fill_matches_reference(shape, dtype):
    n, c, h, w = shape
    x = (torch.rand(shape) * 200).to(dtype)
    _, boxes = _draw(n, h, w, seed=c + w, empty_every=2)
    vals = (torch.rand(n, c) * 100).to(dtype)
    ref = x.clone()
    for i, (y0, y1, x0, x1) in enumerate(boxes.tolist()): ref[i, :, y0:y1, x0:x1] = vals[i][:, None, None]
    assert torch.equal(K.fill_boxes(x, boxes, vals, backend='numba'), ref)
    for method in ('loop', 'where'): assert torch.equal(K.fill_boxes_torch(x, boxes, vals, method=method), ref)
    y = x.clone()
    assert K.fill_boxes(y, boxes, vals, out=y, backend='numba') is y and torch.equal(y, ref)   # in place
    assert torch.equal(K.fill_boxes(x, boxes, 0, backend='numba')[ref != x], torch.zeros_like(x)[ref != x])

def test_full_and_empty_boxes():
    x = torch.randn(4, 3, 5, 6)
    perm = torch.tensor([1, 2, 3, 0])
    full = torch.tensor([[0, 5, 0, 6]] * 4)
    assert torch.equal(K.paste_boxes(x, perm, full, backend='numba'), x[perm])
    assert torch.equal(K.paste_boxes(x, perm, torch.zeros(4, 4, dtype=torch.long), backend='numba'), x)

def test_noncontiguous_input_and_int32_indices():
    x = torch.randn(6, 3, 10, 12).to(memory_format=torch.channels_last)
    perm, boxes = _draw(6, 10, 12, seed=3)
    ref = _reference_paste(x.contiguous(), perm, boxes)
    res = K.paste_boxes(x, perm.int(), boxes.int(), backend='numba')
    assert res.is_contiguous() and torch.equal(res, ref)
    xs = torch.randn(6, 3, 10, 24)[..., ::2]                       # a strided view
    assert torch.equal(K.paste_boxes(xs, perm, boxes, backend='numba'), _reference_paste(xs.contiguous(), perm, boxes))
    assert torch.equal(K.fill_boxes(xs, boxes, torch.ones(6, 3), backend='numba'),
                       K.fill_boxes_torch(xs.contiguous(), boxes, torch.ones(6, 3)))

def test_dispatch():
    x = torch.randn(2, 1, 4, 4)
    assert K.dispatch(x) == K.DEFAULT_BACKEND['cpu'] and K.dispatch(x, 'torch') == 'torch'
    assert K.dispatch(x.half()) == 'torch' and K.dispatch(x.bfloat16(), 'auto') == 'torch'
    with pytest.raises(ValueError, match=r"backend='numba' cannot run on a torch.float16 tensor"): K.dispatch(x.half(), 'numba')
    with pytest.raises(ValueError, match=r"backend='gpu' is not one of the allowed values"): K.dispatch(x, 'gpu')
    perm, boxes = torch.tensor([1, 0]), torch.tensor([[0, 2, 0, 2], [1, 3, 1, 4]])
    h = x.half()
    assert torch.equal(K.paste_boxes(h, perm, boxes), _reference_paste(h, perm, boxes))   # float16 falls back to torch

def test_bad_arguments():
    x = torch.randn(3, 2, 5, 5)
    perm, boxes = torch.tensor([2, 0, 1]), torch.tensor([[0, 2, 0, 2]] * 3)
    with pytest.raises(ValueError, match=r'x has shape \(3, 2, 5\); expected an N×C×H×W batch'): K.paste_boxes(x[..., 0], perm, boxes)
    with pytest.raises(ValueError, match=r'perm values must lie in \[0, 3\)'): K.paste_boxes(x, torch.tensor([0, 1, 3]), boxes)
    with pytest.raises(ValueError, match=r'perm must be an integer tensor of shape \(3,\)'): K.paste_boxes(x, perm[:2], boxes)
    with pytest.raises(ValueError, match=r'boxes must satisfy 0 ≤ y0 ≤ y1 ≤ 5'): K.paste_boxes(x, perm, torch.tensor([[0, 6, 0, 2]] * 3))
    with pytest.raises(ValueError, match=r'boxes must satisfy'): K.paste_boxes(x, perm, torch.tensor([[3, 2, 0, 2]] * 3))
    with pytest.raises(ValueError, match=r'boxes must be an integer tensor of shape \(3, 4\)'): K.paste_boxes(x, perm, boxes.float())
    with pytest.raises(ValueError, match=r'out must not be x'): K.paste_boxes(x, perm, boxes, out=x)
    with pytest.raises(ValueError, match=r'out must be a contiguous torch.float32 tensor of shape'):
        K.paste_boxes(x, perm, boxes, out=torch.empty(3, 2, 5, 4), backend='numba')
    with pytest.raises(ValueError, match=r'values must have shape \(3, 2\)'): K.fill_boxes(x, boxes, torch.zeros(3, 3))
    with pytest.raises(TypeError, match='x must be a torch.Tensor'): K.fill_boxes(x.numpy(), boxes, 0)

def test_cache_rule(tmp_path, monkeypatch):
    monkeypatch.setenv('NUMBA_CACHE_DIR', str(tmp_path / 'new' / 'dir'))
    assert M._cache_writable()                                      # Numba would create it
    ro = tmp_path / 'ro'; ro.mkdir(); ro.chmod(0o500)
    monkeypatch.setenv('NUMBA_CACHE_DIR', str(ro))
    if os.geteuid() != 0: assert not M._cache_writable()           # root can write anywhere
    ro.chmod(0o700)

def test_launch_config():
    assert _cuda.launch_config(1000, 256) == (4, 256)
    assert _cuda.launch_config(10**9, 256, max_blocks=80) == (80, 256)
    assert _cuda.launch_config(0) == (1, 256)

@pytest.mark.skipif(not (torch.cuda.is_available() and _cuda.gpu_available()), reason='needs a CUDA GPU')
def test_cuda_matches_torch():
    x = torch.randn(9, 3, 33, 31, device='cuda')
    perm, boxes = _draw(9, 33, 31, seed=5)
    ref = K.paste_boxes_torch(x, perm.cuda(), boxes)
    assert torch.equal(K.paste_boxes(x, perm, boxes, backend='numba'), ref)
    vals = torch.randn(9, 3)
    assert torch.equal(K.fill_boxes(x, boxes, vals, backend='numba'), K.fill_boxes_torch(x, boxes, vals))
