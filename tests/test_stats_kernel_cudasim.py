"""The CUDA row-moments kernel of `vislab.kernels.stats`, run in Numba's CUDA simulator, against the plain-torch reference.

The simulator must be chosen before Numba is first imported, so this file runs in a pytest process of its own:

    NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/test_stats_kernel_cudasim.py

In any other pytest process (where Numba's real CUDA target is loaded) it skips itself."""
import os
import pytest

if os.environ.get('NUMBA_ENABLE_CUDASIM') != '1':
    pytest.skip('run in its own process: NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/test_stats_kernel_cudasim.py',
                allow_module_level=True)

import numpy as np
import torch
from numba import config, cuda
from vislab.kernels import stats as ST
from vislab.kernels import _cuda

def _run(x, threads=8, max_blocks=65535):
    "The CUDA kernel's row moments of `x`, launched on simulator arrays."
    a = x.contiguous().flatten(1).numpy()
    out = cuda.device_array((a.shape[0], 4), dtype=np.float64)
    ST.row_moments_cuda(cuda.to_device(a), out, threads=threads, max_blocks=max_blocks)
    return torch.from_numpy(out.copy_to_host())

def _close(got, want):
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert torch.equal(got[:, 2:].nan_to_num(7.), want[:, 2:].nan_to_num(7.))     # max and fraction exactly

def test_simulator_is_on():
    assert config.ENABLE_CUDASIM and _cuda.SIMULATOR and _cuda.gpu_available()
    assert ST.dispatch(torch.randn(4, 4)) == ST.DEFAULT_BACKEND['cpu']          # the simulator is never picked for tensors

@pytest.mark.parametrize('shape,threads,max_blocks', [((6, 37), 8, 65535), ((1, 1), 4, 65535), ((5, 1), 8, 2),
                                                      ((3, 2, 3, 3), 16, 1), ((4, 5), 1, 65535), ((7, 64), 32, 3)])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_cuda_kernel_matches_reference(shape, threads, max_blocks, dtype):
    g = torch.Generator().manual_seed(sum(shape) + threads)      # fewer blocks than rows: the grid-stride loop covers all
    for x in (torch.randn(shape, generator=g, dtype=dtype) * 3 - 1, -torch.rand(shape, generator=g, dtype=dtype) - .5):
        _close(_run(x, threads, max_blocks), ST.row_moments_torch(x))

@pytest.mark.filterwarnings('ignore:invalid value encountered:RuntimeWarning')   # the simulator's inf + -inf, in NumPy
def test_cuda_non_finite_and_cpu_kernel():
    nan, inf = float('nan'), float('inf')
    x = torch.tensor([[1., nan, 2., -1., 0.], [inf, 1., 0., 0., 3.], [-inf, inf, 1., 2., 0.], [-inf, -2., -1., -inf, -3.],
                      [nan, nan, nan, nan, nan], [-0., 0., -0., -0., 0.]])
    for dtype in (torch.float32, torch.float64):
        got = _run(x.to(dtype), threads=4)
        _close(got, ST.row_moments_torch(x.to(dtype)))
        _close(got, ST.row_moments(x.to(dtype)))                               # the CPU kernel agrees
    assert _run(torch.zeros(0, 3)).shape == (0, 4)                             # no rows: nothing launched
