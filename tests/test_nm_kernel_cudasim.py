"""The CUDA N:M mask kernel of `vislab.kernels.nm`, run in Numba's CUDA simulator, against the plain-torch reference.

The simulator must be chosen before Numba is first imported, so this file runs in a pytest process of its own:

    NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/test_nm_kernel_cudasim.py

In any other pytest process (where Numba's real CUDA target is loaded) it skips itself."""
import os
import pytest

if os.environ.get('NUMBA_ENABLE_CUDASIM') != '1':
    pytest.skip('run in its own process: NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/test_nm_kernel_cudasim.py',
                allow_module_level=True)

import numpy as np
import torch
from numba import config, cuda
from vislab.kernels import nm as NM
from vislab.kernels import _cuda
from vislab.compress.masks import nm_mask_torch

def _run(x, n, m, magnitude=True, threads=32, max_blocks=65535):
    "The CUDA kernel's mask of `x`, launched on simulator arrays."
    flat = x.contiguous().reshape(-1).numpy()
    out = cuda.device_array(flat.shape, dtype=np.bool_)
    NM.nm_mask_cuda(cuda.to_device(flat), n, m, out, magnitude, threads=threads, max_blocks=max_blocks)
    return torch.from_numpy(out.copy_to_host()).view(x.shape)

def test_simulator_is_on():
    assert config.ENABLE_CUDASIM and _cuda.SIMULATOR and _cuda.gpu_available()
    assert NM.dispatch(torch.randn(4)) == NM.DEFAULT_BACKEND['cpu']        # the simulator is never picked for tensors

@pytest.mark.parametrize('shape,n,m,max_blocks', [((8, 16), 2, 4, 65535), ((4, 2, 3, 3), 1, 6, 2), ((6, 8), 3, 8, 1),
                                                  ((5, 4), 0, 4, 65535), ((3, 8), 4, 4, 1)])
@pytest.mark.parametrize('kind', ['random', 'ties'])
def test_cuda_kernel_matches_reference(shape, n, m, max_blocks, kind):
    g = torch.Generator().manual_seed(sum(shape) + n)
    x = torch.randn(shape, generator=g) if kind == 'random' else torch.randint(-2, 3, shape, generator=g).float()
    for magnitude in (True, False):                                         # few blocks: the grid-stride loop covers all
        assert torch.equal(_run(x, n, m, magnitude, max_blocks=max_blocks), nm_mask_torch(x, n, m, magnitude))

def test_cuda_matches_cpu_kernel_float64_and_scores():
    x = torch.tensor([0., -0., 0., 5., float('-inf'), 1., float('-inf'), 1.], dtype=torch.float64)
    for n in range(5):
        assert torch.equal(_run(x, n, 4, magnitude=False), NM.nm_mask_numba(x, n, 4, magnitude=False))
        assert torch.equal(_run(x, n, 4), NM.nm_mask_numba(x, n, 4))
