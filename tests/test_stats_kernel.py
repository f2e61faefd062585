"""The row-moments kernel of `vislab.kernels.stats` (CPU path) against the plain-torch reference `row_moments_torch`: random
shapes (one row, one column, N×C×H×W), negative values, strided input, float64 and float16, non-finite values;
dispatch and argument checks.

The CUDA kernel is tested in Numba's simulator by tests/test_stats_kernel_cudasim.py, in a process of its own:
    NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/test_stats_kernel_cudasim.py"""
import pytest
import torch
from vislab.kernels import stats as ST
from vislab.kernels import row_moments, row_moments_torch

def _close(got, want):
    "Equal up to float64 rounding of the sums (their order differs); max and fraction > 0 exactly; NaN where NaN."
    assert got.dtype == torch.float64 and got.shape == want.shape, (got.dtype, got.shape, want.shape)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert torch.equal(got[:, 2:].nan_to_num(7.), want[:, 2:].nan_to_num(7.))

SHAPES = [(64, 300), (1, 1), (1, 17), (9, 1), (5, 3, 4, 4), (3, 16, 7, 7), (0, 5), (2, 100_003)]

@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_cpu_kernel_matches_reference(shape, dtype):
    g = torch.Generator().manual_seed(sum(shape))
    for kind, x in {'signed': torch.randn(shape, generator=g, dtype=dtype) * 3 - 1,
                    'relu': torch.randn(shape, generator=g, dtype=dtype).relu(),
                    'negative': -torch.rand(shape, generator=g, dtype=dtype) - .5,
                    'ties': torch.randint(-2, 3, shape, generator=g).to(dtype)}.items():
        assert ST.dispatch(x) == 'numba', kind
        _close(row_moments(x), row_moments_torch(x))
        _close(row_moments(x, backend='numba'), row_moments_torch(x))
        if x.numel():                                                     # the reference against the definitions
            f = x.flatten(1).double()
            _close(row_moments_torch(x), torch.stack([f.sum(1) / f.shape[1], (f ** 2).sum(1) / f.shape[1],
                                                      f.max(1).values, (f > 0).sum(1).double() / f.shape[1]], 1))

def test_values_by_hand():
    x = torch.tensor([[1., -2., 3., 0.], [-1., -1., -1., -1.], [0., 0., 0., 5.]])
    want = torch.tensor([[.5, 3.5, 3., .5], [-1., 1., -1., 0.], [1.25, 6.25, 5., .25]], dtype=torch.float64)
    for backend in ('numba', 'torch'): _close(row_moments(x, backend), want)

def test_strided_float16_and_grad():
    x = torch.randn(8, 6, 10, 10)
    for view in (x[:, ::2], x.permute(0, 2, 3, 1), x[:, :, 1:]):
        assert not view.is_contiguous()
        _close(row_moments(view), row_moments_torch(view.contiguous()))
    h = x.half()
    assert ST.dispatch(h) == 'torch'                                       # Numba takes no float16: the torch path
    _close(row_moments(h), row_moments_torch(h.float()))
    w = torch.nn.Linear(5, 7)(torch.randn(4, 5))                          # an output that requires grad
    _close(row_moments(w), row_moments_torch(w.detach()))
    assert row_moments(x.bfloat16()).dtype == torch.float64

def test_non_finite_values_behave_as_in_torch():
    nan, inf = float('nan'), float('inf')
    x = torch.tensor([[1., nan, 2., -1.], [inf, 1., 0., 0.], [-inf, inf, 1., 2.], [-inf, -2., -1., -inf],
                      [nan, nan, nan, nan], [-0., 0., -0., -0.]])
    for dtype in (torch.float32, torch.float64):
        got, ref = row_moments(x.to(dtype)), row_moments_torch(x.to(dtype))
        _close(got, ref)
        assert got[0, :3].isnan().all() and got[0, 3] == .5              # NaN propagates; NaN is not > 0
        assert got[1].tolist() == [inf, inf, inf, .5] and got[2, :1].isnan().all() and got[2, 1:3].tolist() == [inf, inf]
        assert got[3].tolist() == [-inf, inf, -1., 0.] and got[4, 3] == 0 and got[5].tolist() == [0., 0., 0., 0.]

def test_float64_accumulation():
    x = torch.full((2, 1 << 20), 1 + 2 ** -20, dtype=torch.float32)       # a float32 running sum would drift
    x[1] = 1e4
    got = row_moments(x)
    assert got[0, 0].item() == 1 + 2 ** -20 and got[1, 0].item() == 1e4 and got[1, 1].item() == 1e8

def test_bad_input_and_dispatch():
    with pytest.raises(ValueError, match=r'a has shape \(5,\); row moments need N×… \(at least 2 dimensions\)'): row_moments(torch.randn(5))
    with pytest.raises(ValueError, match=r'a has shape \(3, 0\): its rows are empty'): row_moments(torch.randn(3, 0))
    with pytest.raises(ValueError, match='a has dtype torch.int64; row moments need a floating-point tensor'): row_moments(torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match='a must be a torch.Tensor, got list'): row_moments([[1., 2.]])
    with pytest.raises(ValueError, match=r"backend='gpu' is not one of the allowed values"): row_moments(torch.randn(2, 2), 'gpu')
    with pytest.raises(ValueError, match=r"backend='numba' cannot run on a torch.float16 tensor"): row_moments(torch.randn(2, 2).half(), 'numba')
    assert ST.dispatch(torch.randn(2, 2), 'torch') == 'torch'
    with pytest.raises(ValueError, match='threads=3 must be a power of two'): ST.row_moments_cuda(None, None, threads=3)
    with pytest.raises(ValueError, match='threads=512 must be a power of two'): ST.row_moments_cuda(None, None, threads=512)

def test_warmup_keeps_torch_threads():
    threads = torch.get_num_threads()
    ST.warmup()
    assert torch.get_num_threads() == threads                              # Numba's OpenMP start-up is undone

@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_cuda_matches_reference():
    g = torch.Generator().manual_seed(3)
    for x in (torch.randn(64, 16, 9, 9, generator=g), torch.randn(3, 1, generator=g).double(), torch.randn(70000, 3, generator=g)):
        assert ST.dispatch(x.cuda()) == ST.DEFAULT_BACKEND['cuda']
        _close(row_moments(x.cuda(), backend='numba').cpu(), row_moments_torch(x))
        _close(row_moments(x.cuda()).cpu(), row_moments_torch(x))
