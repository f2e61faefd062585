"""The CUDA scene renderer of `vislab.kernels.scenes`, run in Numba's CUDA simulator, against the plain-torch reference.

The simulator must be chosen before Numba is first imported, so this file runs in a pytest process of its own:

    NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/test_scenes_kernel_cudasim.py

In any other pytest process (where Numba's real CUDA target is loaded) it skips itself."""
import os
import pytest

if os.environ.get('NUMBA_ENABLE_CUDASIM') != '1':
    pytest.skip('run in its own process: NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/test_scenes_kernel_cudasim.py',
                allow_module_level=True)

import numpy as np
import torch
from numba import config, cuda
from vislab.kernels import scenes as K
from vislab.kernels import _cuda
from test_scenes_kernel import random_layout

def _run(lay, size, threads=64, max_blocks=65535):
    "The CUDA kernel's images and object map of the layout `lay`, launched on simulator arrays."
    n = lay[0].shape[0]
    img = cuda.device_array((n, 3, size, size), dtype=np.uint8)
    om = cuda.device_array((n, size, size), dtype=np.int8)
    K.render_cuda(*(cuda.to_device(t.contiguous().numpy()) for t in lay), img, om, threads=threads, max_blocks=max_blocks)
    return torch.from_numpy(img.copy_to_host()), torch.from_numpy(om.copy_to_host())

def test_simulator_is_on():
    assert config.ENABLE_CUDASIM and _cuda.SIMULATOR and _cuda.gpu_available()
    assert K.dispatch() == 'numba'                                          # the simulator is never picked for rendering
    with pytest.raises(ValueError, match="device='cuda' needs a CUDA GPU"): K.dispatch('numba', 'cuda')

@pytest.mark.parametrize('n,m,size,max_blocks', [(3, 2, 8, 65535), (2, 3, 11, 1), (2, 1, 16, 2)])
def test_cuda_kernel_matches_torch(n, m, size, max_blocks):
    lay = random_layout(n, m, size, seed=n * m + size)                     # few blocks: the grid-stride loop covers all
    img, om = _run(lay, size, max_blocks=max_blocks)
    ref_img, ref_om = K.render_torch(*lay, size)
    assert torch.equal(img, ref_img) and torch.equal(om, ref_om)

def test_cuda_matches_cpu_kernel_on_scenes():
    from vislab.data.scenes import sample_scenes, _layout
    s = sample_scenes(2, n_objects=2, seed=3, kind=('triangle', 'seven'))
    lay = _layout(s, 12)
    img, om = _run(lay, 12)
    cimg, com = K.render_numba(*lay, 12)
    assert torch.equal(img, cimg) and torch.equal(om, com)
