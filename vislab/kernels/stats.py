"""Row moments in one pass: per row of an N×D tensor, the mean, the mean of squares, the maximum and the fraction > 0.

`vislab.train.variation` reads these four numbers from every chosen layer's activations inside forward hooks, so
they are computed on the model's critical path. Plain torch needs one pass over the activations per statistic (four
reductions, each reading the whole tensor, and a temporary for the comparison); the kernels read each element once
and keep four running values per row, accumulating sums in float64 whatever the input dtype.

Three implementations compute the same `(n, 4)` float64 result `(mean, mean of squares, max, fraction > 0)`:

* a CPU kernel (`numba.njit(parallel=True)`, `prange` over the rows). The sums are reassociated (`fastmath` with
  `reassoc` and `contract` only -- NaN and infinity keep their IEEE meaning), so they vectorise; the maximum is taken
  on the order-preserving integer image of the floats' bits (`b ^ ((b >> 31) & 0x7fffffff)` for float32), which
  vectorises without any fast-math assumption and is exact;
* a CUDA kernel (`numba.cuda.jit`, one block per row in a grid-stride loop over the rows, each thread a strided part
  of the row, then a shared-memory tree reduction), reached through the shim `._cuda`;
* plain torch (`row_moments_torch`): the reference the tests compare against, and the path for dtypes Numba cannot
  take (float16, bfloat16) or where no kernel can run.

**Non-finite values** behave as in torch: a row holding a NaN has NaN mean, mean square and max (torch's `amax`
propagates NaN; the kernels detect it as a NaN sum of squares); NaN is not `> 0`, so it counts as inactive, as in
`(a > 0).mean()`; an infinity gives an infinite mean (NaN when the row holds both +inf and -inf) and mean square,
and +inf is its row's max. The sums' order differs between the three paths, so they agree to float64 rounding, not bit for bit; the max
and the fraction are exact.

Tests: `tests/test_stats_kernel.py` (CPU kernel and dispatch against `row_moments_torch`: random shapes, one row,
one column, negative values, strided input, float64/float16, non-finite values) and
`tests/test_stats_kernel_cudasim.py` (the CUDA kernel in Numba's simulator, in a process of its own).

The CPU kernel earns its place by speed: on a relu'd (64, 16384) float32 activation, one thread, best of 50 calls, it
took 0.21 ms against 0.58 ms for the four torch reductions (mean, vector norm, amax, sign-clamp-mean) the variation
features used before, and 0.86 ms for the same loop with a plain `max` (which does not vectorise); summed over the
eight layers of the ResNet-8 in `vislab bench variation` (batch of 64) it is about 1 ms of a ~28 ms forward pass. On
CUDA torch stays the default until the kernel (one read of the activation instead of four) is timed against it on a
GPU; `backend='numba'` runs the kernel there.
"""
from __future__ import annotations
import math
import numpy as np
from numba import prange
import torch
from . import _cuda
from ._cuda import cuda
from .mix import _njit, _sync_threads, choose_backend

__all__ = ['row_moments', 'row_moments_torch', 'row_moments_cuda', 'dispatch', 'DEFAULT_BACKEND', 'NUMBA_DTYPES',
           'MAX_THREADS', 'warmup']

# ---------------------------------------------------------------------------------------------------------------
# CPU kernel

# The integer type whose bits view each float dtype, its sign-bit shift and the mask of its other bits: for a float's
# bits `b` (as a signed integer), `b ^ ((b >> shift) & mask)` orders like the float itself (non-NaN values), and is
# its own inverse.
_BITS = {torch.float32: (np.int32, np.int32(31), np.int32(0x7FFFFFFF)),
         torch.float64: (np.int64, np.int64(63), np.int64(0x7FFFFFFFFFFFFFFF))}

def _row_moments_cpu_py(a, bits, shift, mask, out, mx_bits):
    n, d = a.shape
    for i in prange(n):
        s = 0.
        ss = 0.
        c = 0
        b0 = bits[i, 0]
        key = b0 ^ ((b0 >> shift) & mask)
        for j in range(d):
            v = np.float64(a[i, j])
            s += v
            ss += v * v
            c += v > 0
            b = bits[i, j]
            key = max(key, b ^ ((b >> shift) & mask))
        mx_bits[i] = key ^ ((key >> shift) & mask)
        mx = np.float64(mx_bits[i:i + 1].view(a.dtype)[0])
        if ss != ss: mx = np.nan                        # a NaN in the row (its square makes the sum of squares NaN)
        out[i, 0] = s / d
        out[i, 1] = ss / d
        out[i, 2] = mx
        out[i, 3] = c / d

# reassociation (and fused multiply-add) only: the sums vectorise, NaN and inf keep their meaning
_row_moments_cpu = _njit(_row_moments_cpu_py, fastmath={'reassoc', 'contract'})

# ---------------------------------------------------------------------------------------------------------------
# CUDA kernel (compiled lazily, on the first launch; all CUDA names come from the shim)

#: The most threads per block the CUDA kernel takes (the size of its shared-memory buffers); a power of two.
MAX_THREADS = 256

@_cuda.jit
def _row_moments_cuda(a, out):
    sm = cuda.shared.array(MAX_THREADS, np.float64)
    sq = cuda.shared.array(MAX_THREADS, np.float64)
    smx = cuda.shared.array(MAX_THREADS, np.float64)
    sc = cuda.shared.array(MAX_THREADS, np.float64)
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    n, d = a.shape
    for i in range(cuda.blockIdx.x, n, cuda.gridDim.x):
        s = 0.
        ss = 0.
        mx = -math.inf
        c = 0.
        for j in range(t, d, nt):
            v = np.float64(a[i, j])
            s += v
            ss += v * v
            if v > mx: mx = v
            if v > 0: c += 1.
        sm[t] = s
        sq[t] = ss
        smx[t] = mx
        sc[t] = c
        cuda.syncthreads()
        step = nt // 2
        while step > 0:
            if t < step:
                sm[t] += sm[t + step]
                sq[t] += sq[t + step]
                if smx[t + step] > smx[t]: smx[t] = smx[t + step]
                sc[t] += sc[t + step]
            cuda.syncthreads()
            step //= 2
        if t == 0:
            out[i, 0] = sm[0] / d
            out[i, 1] = sq[0] / d
            out[i, 2] = math.nan if sq[0] != sq[0] else smx[0]   # a NaN in the row
            out[i, 3] = sc[0] / d
        cuda.syncthreads()                                  # the buffers are reused for the next row

def row_moments_cuda(a, out, stream=0, threads=128, max_blocks=65535):
    "Launch the CUDA kernel on a 2-D CUDA array `a` (n×d, d ≥ 1) into `out` (n×4 float64): one block per row."
    if threads < 1 or threads > MAX_THREADS or threads & (threads - 1):
        raise ValueError(f"threads={threads} must be a power of two in [1, {MAX_THREADS}] (the tree reduction halves it)")
    if a.shape[0] == 0: return out
    _row_moments_cuda[max(1, min(a.shape[0], max_blocks)), threads, stream](a, out)
    return out

# ---------------------------------------------------------------------------------------------------------------
# plain torch

def row_moments_torch(a: torch.Tensor) -> torch.Tensor:
    "The reference: (mean, mean of squares, max, fraction > 0) of each row of `a.flatten(1)`, in float64 (n×4)."
    a = _check(a).detach().flatten(1).double()
    if not len(a): return a.new_empty(0, 4)
    return torch.stack([a.mean(1), (a * a).mean(1), a.amax(1), (a > 0).double().mean(1)], 1)

# ---------------------------------------------------------------------------------------------------------------
# dispatch

NUMBA_DTYPES = (torch.float32, torch.float64)

#: What `backend='auto'` runs on each device type: the CPU kernel beat the four torch reductions 2.7× on a (64, 16384)
#: float32 activation (module docstring); on CUDA torch, until the kernel (one read of the activation instead of four)
#: is timed against it on a GPU -- `backend='numba'` runs it.
DEFAULT_BACKEND = {'cpu': 'numba', 'cuda': 'torch'}

def dispatch(a: torch.Tensor, backend: str = 'auto') -> str:
    "The path `row_moments` takes for `a`: 'numba' (CPU or CUDA kernel) or 'torch'."
    return choose_backend(a, backend, NUMBA_DTYPES, DEFAULT_BACKEND)

def _check(a, name='a'):
    if not isinstance(a, torch.Tensor): raise TypeError(f"{name} must be a torch.Tensor, got {type(a).__name__}")
    if a.ndim < 2: raise ValueError(f"{name} has shape {tuple(a.shape)}; row moments need N×… (at least 2 dimensions)")
    if not a.is_floating_point(): raise ValueError(f"{name} has dtype {a.dtype}; row moments need a floating-point tensor")
    if a.shape[0] and not math.prod(a.shape[1:]):
        raise ValueError(f"{name} has shape {tuple(a.shape)}: its rows are empty, so they have no mean or max")
    return a

def row_moments(a: torch.Tensor,      # N×… activations; the statistics run over each row of `a.flatten(1)`
                backend: str = 'auto'  # 'auto' (see `dispatch`), 'numba' or 'torch'
               ) -> torch.Tensor:
    "Per row of `a.flatten(1)`: (mean, mean of squares, max, fraction > 0), float64 (n×4), in one pass over `a`."
    _check(a)
    if dispatch(a, backend) == 'torch': return row_moments_torch(a)
    a = a.detach().flatten(1).contiguous()      # a copy only when `a` is strided
    n = a.shape[0]
    if a.device.type == 'cpu':
        it, shift, mask = _BITS[a.dtype]
        x = a.numpy()
        out = np.empty((n, 4))
        _sync_threads()
        _row_moments_cpu(x, x.view(it), shift, mask, out, np.empty(n, it))
        return torch.from_numpy(out)
    out = torch.empty(n, 4, dtype=torch.float64, device=a.device)
    A = _cuda.as_cuda_array
    row_moments_cuda(A(a), A(out), stream=_cuda.torch_stream(a))
    return out

def warmup(dtypes=NUMBA_DTYPES):
    "Compile (or load from the cache) the CPU kernel for `dtypes`, so the first real call is not a compile."
    for dt in dtypes: row_moments(torch.zeros(1, 1, dtype=dt), 'numba')
