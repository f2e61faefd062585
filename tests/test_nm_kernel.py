"""The N:M mask kernel of `vislab.kernels.nm` (CPU path) against the plain-torch reference `vislab.compress.masks.nm_mask_torch`,
bit for bit, on random and tie-heavy inputs; the tie rule; dispatch and argument checks.

The CUDA kernel is tested in Numba's simulator by tests/test_nm_kernel_cudasim.py, in a process of its own:
    NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/test_nm_kernel_cudasim.py"""
import pytest
import torch
from vislab.kernels import nm as NM
from vislab.compress.masks import nm_mask, nm_mask_torch

def _brute(x, n, m, magnitude=True):
    "The tie rule spelled out: in each group, rank = #larger + #equal at a lower index; keep rank < n."
    v = (x.abs() if magnitude else x).reshape(-1, m).tolist()
    keep = [[sum(b > a or (b == a and k < j) for k, b in enumerate(g)) < n for j, a in enumerate(g)] for g in v]
    return torch.tensor(keep, dtype=torch.bool).view(x.shape)

CASES = [((64, 32), 2, 4), ((16, 8, 3, 3), 2, 4), ((10, 24), 1, 8), ((7, 12), 3, 6), ((5, 4, 1, 1), 4, 4),
         ((3, 16), 0, 4), ((33,), 1, 3), ((0, 8), 2, 4)]

def _inputs(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return {'random': torch.randn(shape, generator=g),
            'ties': torch.randint(-2, 3, shape, generator=g).float(),          # five values: ties in most groups
            'signed zeros': torch.randint(0, 2, shape, generator=g).float() * torch.tensor(-0.),
            'float64': torch.randn(shape, generator=g, dtype=torch.float64)}

@pytest.mark.parametrize('shape,n,m', CASES)
@pytest.mark.parametrize('magnitude', [True, False])
def test_cpu_kernel_matches_reference(shape, n, m, magnitude):
    for kind, x in _inputs(shape, seed=sum(shape) + n).items():
        ref = nm_mask_torch(x, n, m, magnitude)
        assert torch.equal(NM.nm_mask_numba(x, n, m, magnitude), ref), kind
        assert torch.equal(nm_mask(x, n, m, magnitude, backend='numba'), ref), kind
        assert torch.equal(nm_mask(x, n, m, magnitude, backend='torch'), ref), kind
        if x.numel(): assert torch.equal(ref, _brute(x, n, m, magnitude)), kind
        assert ref.shape == x.shape and int(ref.sum()) == x.numel() // m * n

def test_tie_rule_lower_index_wins():
    x = torch.tensor([1., -3., 3., 1., 2., 2., 2., 2., 0., -0., 0., 5.])
    want = torch.tensor([0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1], dtype=torch.bool)
    for backend in ('numba', 'torch'): assert torch.equal(nm_mask(x, 2, 4, backend=backend), want)
    s = torch.tensor([float('-inf'), 1., float('-inf'), 1.])                   # scores: -inf goes first
    assert torch.equal(nm_mask(s, 2, 4, magnitude=False, backend='numba'), torch.tensor([False, True, False, True]))
    assert torch.equal(nm_mask(s, 3, 4, magnitude=False, backend='numba'), torch.tensor([True, True, False, True]))

def test_noncontiguous_and_large():
    x = torch.randn(96, 64)[:, ::2]                                            # a strided view
    assert torch.equal(NM.nm_mask_numba(x, 2, 4), nm_mask_torch(x.contiguous(), 2, 4))
    big = torch.randn(512, 1024, generator=torch.Generator().manual_seed(1))
    assert torch.equal(NM.nm_mask_numba(big, 2, 4), nm_mask_torch(big, 2, 4))

@pytest.mark.parametrize('n,m,match', [(5, 4, r'n=5 must lie in \[0, m=4\]'), (-1, 4, r'n=-1 must lie in \[0, m=4\]'),
                                       (2, 0, 'm=0 must be at least 1'), (2, 3, 'm=3 does not divide the row width 8'),
                                       (2.0, 4, 'n=2.0 must be an integer'), (True, 4, 'n=True must be an integer')])
def test_bad_arguments(n, m, match):
    x = torch.randn(2, 8)
    for f in (lambda: nm_mask(x, n, m), lambda: nm_mask_torch(x, n, m), lambda: NM.nm_mask_numba(x, n, m)):
        with pytest.raises(ValueError, match=match): f()

def test_nan_and_dispatch():
    with pytest.raises(ValueError, match='NaN'): nm_mask(torch.tensor([1., float('nan'), 0., 2.]), 2, 4)
    x = torch.randn(4, 8)
    assert NM.dispatch(x) == NM.DEFAULT_BACKEND['cpu'] and NM.dispatch(x, 'torch') == 'torch'
    assert NM.dispatch(x.half()) == 'torch' and NM.dispatch(x.int()) == 'torch'
    with pytest.raises(ValueError, match=r"backend='numba' cannot run on a torch.float16 tensor"): NM.dispatch(x.half(), 'numba')
    with pytest.raises(ValueError, match=r"backend='gpu' is not one of the allowed values"): NM.dispatch(x, 'gpu')
    assert torch.equal(nm_mask(x.half(), 2, 4), nm_mask_torch(x.half(), 2, 4))     # the torch fallback

def test_requires_grad_input_and_warmup():
    threads = torch.get_num_threads()
    NM.warmup()
    assert torch.get_num_threads() == threads                                  # Numba's OpenMP start-up is undone
    w = torch.nn.Linear(16, 4).weight                                          # a leaf that requires grad
    assert torch.equal(nm_mask(w, 2, 4, backend='numba'), nm_mask_torch(w, 2, 4))

@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_cuda_matches_reference():
    for kind, x in _inputs((128, 64), seed=3).items():
        xc = x.cuda()
        assert torch.equal(NM.nm_mask_numba(xc, 2, 4).cpu(), nm_mask_torch(x, 2, 4)), kind
