"""Numba kernels for vislab (CPU `@njit` and CUDA `@cuda.jit`), imported as `vislab.kernels`.

All `numba.cuda` imports live in `vislab.kernels._cuda`; see each module's docstring for what its kernels compute,
how they are tested and whether they earn their place by speed or by teaching."""
from .mix import (paste_boxes, fill_boxes, paste_boxes_torch, fill_boxes_torch, paste_boxes_cuda, fill_boxes_cuda,
                  dispatch, check_backend, DEFAULT_BACKEND, NUMBA_DTYPES, warmup)
from .stats import row_moments, row_moments_torch
from ._cuda import HAVE_CUDA, gpu_available

__all__ = ['paste_boxes', 'fill_boxes', 'paste_boxes_torch', 'fill_boxes_torch', 'paste_boxes_cuda',
           'fill_boxes_cuda', 'dispatch', 'check_backend', 'DEFAULT_BACKEND', 'NUMBA_DTYPES', 'warmup', 'row_moments',
           'row_moments_torch', 'HAVE_CUDA', 'gpu_available']
