"""N:M sparsity masks: keep the `n` largest of every `m` consecutive weights along the input dimension.

The groups run along the last dimension of `weight.flatten(1)` -- for a linear layer the input features, the layout
PyTorch's semi-structured (2:4) sparse tensors use; for a convolution its in-channels × kernel, flattened -- so with a
row width divisible by `m` they are simply `m` consecutive elements of the contiguous tensor.

**The tie rule**: element `j` of a group has rank `#{k: v_k > v_j} + #{k < j: v_k == v_j}` and is kept when its rank is
below `n` -- among equal values the lower index wins. It is what a stable descending sort gives, which is how the
plain-torch reference (`vislab.compress.masks.nm_mask_torch`) computes it; the kernels compute the rank directly.

Two kernels compute exactly that mask, both O(m) work per element:

* a CPU kernel (`numba.njit(parallel=True)`, `prange` over the groups);
* a CUDA kernel (`numba.cuda.jit`, a grid-stride loop over the elements, one thread per element), reached through the
  shim `._cuda`.

Values are ranked by magnitude (`magnitude=True`, for weights) or as they are (for importance scores, where `-inf`
marks a weight that must go first). NaN has no rank: the callers reject it. `dispatch` says which path
`backend='auto'` takes; the kernel earns its place by speed on the CPU -- see `DEFAULT_BACKEND` and the pruning
benchmark (`bench_prune`, to be merged into `nbs/80_bench.ipynb`).
"""
from __future__ import annotations
from numbers import Integral
import math
from numba import prange
import torch
from . import _cuda
from ._cuda import cuda
from .mix import _njit, _sync_threads, choose_backend

__all__ = ['row_width', 'check_nm_args', 'check_nm', 'nm_mask_numba', 'nm_mask_cuda', 'dispatch', 'DEFAULT_BACKEND', 'NUMBA_DTYPES', 'warmup']

# ---------------------------------------------------------------------------------------------------------------
# argument checks, shared with the torch reference

def row_width(x: torch.Tensor) -> int:
    "The width N:M groups run along: the last dimension of `x.flatten(1)` (of `x` itself when 1-D)."
    return math.prod(x.shape[1:]) if x.ndim > 1 else x.shape[0]

def check_nm_args(n, m):
    "Check that `n` of every `m` weights can be kept: integers, 1 ≤ m, 0 ≤ n ≤ m."
    for arg, v in (('n', n), ('m', m)):
        if not isinstance(v, Integral) or isinstance(v, bool): raise ValueError(f"{arg}={v!r} must be an integer")
    if m < 1: raise ValueError(f"m={m} must be at least 1 (the group size)")
    if not 0 <= n <= m: raise ValueError(f"n={n} must lie in [0, m={m}] (the weights kept per group of m)")

def check_nm(x: torch.Tensor, n, m, name: str = 'weight') -> int:
    "Check an N:M request on `x`; returns the row width (`x.flatten(1)`'s last dimension) the groups run along."
    if not isinstance(x, torch.Tensor): raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    check_nm_args(n, m)
    if x.ndim == 0: raise ValueError(f"{name} is a scalar; N:M groups need at least one dimension")
    width = row_width(x)
    if width % m:
        raise ValueError(f"m={m} does not divide the row width {width} of {name} (shape {tuple(x.shape)}); N:M groups "
                         "run along the input dimension (the last of weight.flatten(1)), so it must be a multiple of m")
    return width

# ---------------------------------------------------------------------------------------------------------------
# CPU kernel

def _nm_cpu_py(x, n, m, magnitude, out):
    for g in prange(x.shape[0] // m):
        base = g * m
        for j in range(m):
            vj = abs(x[base + j]) if magnitude else x[base + j]
            rank = 0
            for k in range(m):
                vk = abs(x[base + k]) if magnitude else x[base + k]
                if vk > vj or (vk == vj and k < j): rank += 1
            out[base + j] = rank < n

_nm_cpu = _njit(_nm_cpu_py)

# ---------------------------------------------------------------------------------------------------------------
# CUDA kernel (compiled lazily, on the first launch; all CUDA names come from the shim)

@_cuda.jit
def _nm_cuda(x, n, m, magnitude, out):
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, x.shape[0], stride):
        j = i % m
        base = i - j
        vj = abs(x[i]) if magnitude else x[i]
        rank = 0
        for k in range(m):
            vk = abs(x[base + k]) if magnitude else x[base + k]
            if vk > vj or (vk == vj and k < j): rank += 1
        out[i] = rank < n

def nm_mask_cuda(x, n, m, out, magnitude=True, stream=0, threads=256, max_blocks=65535):
    "Launch the CUDA kernel on 1-D CUDA arrays (anything with `__cuda_array_interface__`, or simulator arrays)."
    blocks, threads = _cuda.launch_config(x.shape[0], threads, max_blocks)
    _nm_cuda[blocks, threads, stream](x, n, m, magnitude, out)
    return out

# ---------------------------------------------------------------------------------------------------------------
# dispatch

NUMBA_DTYPES = (torch.float32, torch.float64)

#: What `backend='auto'` runs on each device type. On the CPU the kernel beat the torch reference (a stable sort of
#: every group) 6× and plain `topk` 4.7× in the stored measurement (a 2:4 mask of a 2048×4096 float32 weight, one
#: thread: 82 ms, 503 ms, 383 ms; `bench_prune`); on CUDA the two have not been compared yet: torch.
DEFAULT_BACKEND = {'cpu': 'numba', 'cuda': 'torch'}

def dispatch(x: torch.Tensor, backend: str = 'auto') -> str:
    "The path an N:M mask of `x` takes: 'numba' (CPU or CUDA kernel) or 'torch'."
    return choose_backend(x, backend, NUMBA_DTYPES, DEFAULT_BACKEND)

def nm_mask_numba(x: torch.Tensor, n: int, m: int, magnitude: bool = True) -> torch.Tensor:
    "Boolean N:M mask of `x` (same shape) from the CPU or CUDA kernel, by `x`'s device; no NaN allowed (unchecked)."
    check_nm(x, n, m, 'x')
    dispatch(x, 'numba')
    flat = x.detach().contiguous().reshape(-1)
    out = torch.empty(flat.shape, dtype=torch.bool, device=x.device)
    if x.device.type == 'cpu':
        _sync_threads()
        _nm_cpu(flat.numpy(), n, m, magnitude, out.numpy())
    else:
        A = _cuda.as_cuda_array
        nm_mask_cuda(A(flat), n, m, A(out), magnitude, stream=_cuda.torch_stream(x))
    return out.view(x.shape)

def warmup(dtypes=NUMBA_DTYPES):
    "Compile (or load from the cache) the CPU kernel for `dtypes`, so the first real call is not a compile."
    for dt in dtypes:
        for magnitude in (True, False): nm_mask_numba(torch.zeros(4, dtype=dt), 2, 4, magnitude)
