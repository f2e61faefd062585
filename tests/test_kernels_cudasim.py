"""The CUDA kernels of `vislab.kernels`, run in Numba's CUDA simulator, against plain torch.

The simulator must be chosen before Numba is first imported, so this file runs in a pytest process of its own:

    NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/test_kernels_cudasim.py

In any other pytest process (where Numba's real CUDA target is loaded) it skips itself."""
import os
import pytest

if os.environ.get('NUMBA_ENABLE_CUDASIM') != '1':
    pytest.skip('run in its own process: NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/test_kernels_cudasim.py',
                allow_module_level=True)

import numpy as np
import torch
from numba import config, cuda
from vislab.kernels import paste_boxes_cuda, fill_boxes_cuda, paste_boxes_torch, fill_boxes_torch
from vislab.kernels import _cuda

def _draw(n, h, w, seed):
    g = torch.Generator().manual_seed(seed)
    y0, x0 = torch.randint(0, h + 1, (n,), generator=g), torch.randint(0, w + 1, (n,), generator=g)
    y1 = (y0 + (torch.rand(n, generator=g) * (h + 1 - y0)).long()).clamp(max=h)
    x1 = (x0 + (torch.rand(n, generator=g) * (w + 1 - x0)).long()).clamp(max=w)
    boxes = torch.stack([y0, y1, x0, x1], 1)
    boxes[0] = torch.tensor([0, h, 0, w]); boxes[-1] = 0            # a full box and an empty one
    return torch.randperm(n, generator=g), boxes

def test_simulator_is_on():
    assert config.ENABLE_CUDASIM and _cuda.SIMULATOR and _cuda.gpu_available()

@pytest.mark.parametrize('shape,dtype,max_blocks', [((5, 2, 6, 7), np.float32, 65535), ((4, 3, 5, 9), np.uint8, 2),
                                                    ((3, 1, 8, 8), np.float64, 1)])
def test_paste(shape, dtype, max_blocks):
    n, c, h, w = shape
    x = (torch.rand(shape) * 200).numpy().astype(dtype)
    perm, boxes = _draw(n, h, w, seed=sum(shape))
    out = cuda.device_array_like(x)
    paste_boxes_cuda(cuda.to_device(x), cuda.to_device(perm.numpy()), cuda.to_device(boxes.numpy()), out,
                     threads=32, max_blocks=max_blocks)                # few blocks: the grid-stride loop must cover all
    ref = paste_boxes_torch(torch.from_numpy(x), perm, boxes)
    assert torch.equal(torch.from_numpy(out.copy_to_host()), ref)

@pytest.mark.parametrize('copy', [True, False])
def test_fill(copy):
    n, c, h, w = 4, 3, 7, 6
    x = torch.randn(n, c, h, w).numpy()
    _, boxes = _draw(n, h, w, seed=11)
    vals = torch.randn(n, c).numpy()
    dx = cuda.to_device(x)
    out = cuda.device_array_like(x) if copy else dx
    fill_boxes_cuda(dx, cuda.to_device(boxes.numpy()), cuda.to_device(vals), out, copy=copy, threads=32, max_blocks=3)
    ref = fill_boxes_torch(torch.from_numpy(x), boxes, torch.from_numpy(vals))
    assert torch.equal(torch.from_numpy(out.copy_to_host()), ref)
