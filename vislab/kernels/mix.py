"""Batched per-sample box kernels for CutMix (paste a partner's box) and Cutout (fill a box).

Each operation has three implementations computing exactly the same thing:

* a CPU kernel (`numba.njit(parallel=True)`, `prange` over the batch) that writes the mixed batch in one pass: every
  output pixel is read once, from either the sample itself or its partner, and written once -- the same memory
  traffic as `x.clone()`;
* a CUDA kernel (`numba.cuda.jit`, a grid-stride loop over all elements), reached through the shim `._cuda`;
* plain torch (`paste_boxes_torch`, `fill_boxes_torch`), the reference the tests compare against and the fallback
  for dtypes Numba cannot take (float16, bfloat16).

Randomness never enters a kernel: permutations, boxes and fill values are drawn on the host and passed in, so all
paths give bit-identical results. The kernels take torch tensors and work on them without copies (`.numpy()` on
the CPU, `numba.cuda.as_cuda_array` on the GPU). `dispatch` says which path `backend='auto'` takes on each device:
the kernel only where it measurably beats the best plain-torch version (see the benchmark in `nbs/80_bench.ipynb`).
The first call of a CPU kernel compiles it, once per dtype; with a writable cache directory the compiled code is
cached on disk (`cache=True`) for later processes. In the stored measurement (`nbs/80_bench.ipynb`) a fresh process
importing the kernels and calling `warmup()` took 6.6 s with an empty cache and 2.0 s with a filled one, imports
included.
"""
from __future__ import annotations
import os
import numpy as np
import numba
from numba import njit, prange
import torch
from . import _cuda
from ._cuda import cuda

__all__ = ['BACKENDS', 'check_backend', 'paste_boxes', 'fill_boxes', 'paste_boxes_torch', 'fill_boxes_torch',
           'paste_boxes_cuda', 'fill_boxes_cuda', 'dispatch', 'DEFAULT_BACKEND', 'NUMBA_DTYPES', 'CACHE', 'warmup']

# ---------------------------------------------------------------------------------------------------------------
# where compiled code can be cached

def _cache_writable() -> bool:
    "True when Numba has somewhere writable to put its cache: `NUMBA_CACHE_DIR`, else the `__pycache__` beside this file."
    d = os.environ.get('NUMBA_CACHE_DIR')
    if d:
        while not os.path.exists(d) and os.path.dirname(d) != d: d = os.path.dirname(d)  # Numba creates missing dirs
        return os.access(d, os.W_OK)
    here = os.path.dirname(os.path.abspath(__file__))
    pyc = os.path.join(here, '__pycache__')
    if os.path.isdir(pyc): return os.access(pyc, os.W_OK)
    return os.access(here, os.W_OK)

CACHE = _cache_writable()

def _njit(fn, **opts):
    "`njit(parallel=True)` (and any further `njit` options `opts`), with `cache=True` only where a cache directory is writable."
    if CACHE:
        try: return njit(parallel=True, cache=True, nogil=True, **opts)(fn)
        except Exception: pass  # no cache locator after all: compile in memory
    return njit(parallel=True, nogil=True, **opts)(fn)

# ---------------------------------------------------------------------------------------------------------------
# CPU kernels

# Column bounds are cast to unsigned: Numba wraps negative indices around, and only an index it can prove non-negative
# (an unsigned one, or a loop from 0) lets LLVM drop that check and vectorise the row copies -- 2x faster, close to
# memcpy. Rows are copied in up to three contiguous runs: before the box, the box (from the partner), after it.

def _paste_cpu_py(x, perm, boxes, out):
    n, c, h, w = x.shape
    wu = np.uint64(w)
    for i in prange(n):
        p = perm[i]
        y0, y1, x0, x1 = boxes[i, 0], boxes[i, 1], np.uint64(boxes[i, 2]), np.uint64(boxes[i, 3])
        for ch in range(c):
            for r in range(h):
                if r >= y0 and r < y1:
                    for col in range(x0): out[i, ch, r, col] = x[i, ch, r, col]
                    for col in range(x0, x1): out[i, ch, r, col] = x[p, ch, r, col]
                    for col in range(x1, wu): out[i, ch, r, col] = x[i, ch, r, col]
                else:
                    for col in range(w): out[i, ch, r, col] = x[i, ch, r, col]

def _fill_cpu_py(x, boxes, values, out, copy):
    n, c, h, w = x.shape
    wu = np.uint64(w)
    for i in prange(n):
        y0, y1, x0, x1 = boxes[i, 0], boxes[i, 1], np.uint64(boxes[i, 2]), np.uint64(boxes[i, 3])
        for ch in range(c):
            v = values[i, ch]
            for r in range(h):
                inside = r >= y0 and r < y1
                if copy:
                    if inside:
                        for col in range(x0): out[i, ch, r, col] = x[i, ch, r, col]
                        for col in range(x1, wu): out[i, ch, r, col] = x[i, ch, r, col]
                    else:
                        for col in range(w): out[i, ch, r, col] = x[i, ch, r, col]
                if inside:
                    for col in range(x0, x1): out[i, ch, r, col] = v

_paste_cpu = _njit(_paste_cpu_py)
_fill_cpu = _njit(_fill_cpu_py)

# ---------------------------------------------------------------------------------------------------------------
# CUDA kernels (compiled lazily, on the first launch; all CUDA names come from the shim)

@_cuda.jit
def _paste_cuda(x, perm, boxes, out):
    n, c, h, w = x.shape
    total = n * c * h * w
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for idx in range(start, total, stride):
        col = idx % w
        t = idx // w
        r = t % h
        t = t // h
        ch = t % c
        i = t // c
        src = i
        if r >= boxes[i, 0] and r < boxes[i, 1] and col >= boxes[i, 2] and col < boxes[i, 3]: src = perm[i]
        out[i, ch, r, col] = x[src, ch, r, col]

@_cuda.jit
def _fill_cuda(x, boxes, values, out, copy):
    n, c, h, w = x.shape
    total = n * c * h * w
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for idx in range(start, total, stride):
        col = idx % w
        t = idx // w
        r = t % h
        t = t // h
        ch = t % c
        i = t // c
        if r >= boxes[i, 0] and r < boxes[i, 1] and col >= boxes[i, 2] and col < boxes[i, 3]:
            out[i, ch, r, col] = values[i, ch]
        elif copy:
            out[i, ch, r, col] = x[i, ch, r, col]

def paste_boxes_cuda(x, perm, boxes, out, stream=0, threads=256, max_blocks=65535):
    "Launch the CUDA paste on CUDA arrays (anything with `__cuda_array_interface__`, or simulator arrays)."
    blocks, threads = _cuda.launch_config(int(np.prod(out.shape)), threads, max_blocks)
    _paste_cuda[blocks, threads, stream](x, perm, boxes, out)
    return out

def fill_boxes_cuda(x, boxes, values, out, copy=True, stream=0, threads=256, max_blocks=65535):
    "Launch the CUDA fill on CUDA arrays; `copy=False` only writes the boxes (for `out` being `x`)."
    blocks, threads = _cuda.launch_config(int(np.prod(out.shape)), threads, max_blocks)
    _fill_cuda[blocks, threads, stream](x, boxes, values, out, copy)
    return out

# ---------------------------------------------------------------------------------------------------------------
# plain torch: the reference, and the fallback

def _box_mask(boxes, h, w, device):
    "N×1×H×W boolean mask of the boxes (y0, y1, x0, x1) -- each row a half-open box."
    b = boxes.to(device=device, dtype=torch.long)
    rows, cols = torch.arange(h, device=device), torch.arange(w, device=device)
    rm = (rows >= b[:, 0:1]) & (rows < b[:, 1:2])
    cm = (cols >= b[:, 2:3]) & (cols < b[:, 3:4])
    return (rm[:, :, None] & cm[:, None, :])[:, None]

def _torch_method(x, method):
    if method not in ('auto', 'loop', 'where'):
        raise ValueError(f"method={method!r} is not one of the allowed values: 'auto', 'loop', 'where'")
    if method != 'auto': return method
    # on the CPU the mask costs more than a Python loop of slice copies once a sample holds more than ~16k values
    # (measured when this was written; no stored benchmark covers it); on a GPU a Python loop of launches never pays.
    return 'where' if x.device.type != 'cpu' or x[0].numel() <= 16384 else 'loop'

def paste_boxes_torch(x, perm, boxes, out=None, method='auto'):
    "Plain-torch paste: `'loop'` copies `x` then assigns one slice per sample; `'where'` selects with a box mask."
    method = _torch_method(x, method)
    if method == 'where':
        res = torch.where(_box_mask(boxes, x.shape[-2], x.shape[-1], x.device), x[perm.to(x.device)], x)
        return res if out is None else out.copy_(res)
    out = x.clone() if out is None else out.copy_(x)
    for i, (p, (y0, y1, x0, x1)) in enumerate(zip(perm.tolist(), boxes.tolist())):
        if y1 > y0 and x1 > x0: out[i, :, y0:y1, x0:x1] = x[p, :, y0:y1, x0:x1]
    return out

def fill_boxes_torch(x, boxes, values, out=None, method='auto'):
    "Plain-torch fill of each sample's box with its per-channel `values` (N×C); `out` may be `x` (in place)."
    values = values.to(device=x.device, dtype=x.dtype)
    method = _torch_method(x, method)
    if method == 'where':
        res = torch.where(_box_mask(boxes, x.shape[-2], x.shape[-1], x.device), values[:, :, None, None], x)
        return res if out is None else out.copy_(res)
    if out is None: out = x.clone()
    elif out is not x: out.copy_(x)
    for i, (y0, y1, x0, x1) in enumerate(boxes.tolist()):
        if y1 > y0 and x1 > x0: out[i, :, y0:y1, x0:x1] = values[i][:, None, None]
    return out

# ---------------------------------------------------------------------------------------------------------------
# dispatch

NUMBA_DTYPES = (torch.float32, torch.float64, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)

#: What `backend='auto'` runs on each device type, set from the benchmark in nbs/80_bench.ipynb. On the CPU the Numba
#: kernel was ahead of plain torch in the stored run: a CutMix batch 2.3× faster at 256×3×32×32 and 6% faster at
#: 64×3×224×224, where both are close to the cost of `x.clone()`. On CUDA the two have not been compared yet: torch.
DEFAULT_BACKEND = {'cpu': 'numba', 'cuda': 'torch'}

BACKENDS = ('auto', 'numba', 'torch')

def check_backend(backend: str) -> str:
    "`backend` if it is one of `BACKENDS`, else a `ValueError` naming the allowed values."
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not one of the allowed values: {', '.join(map(repr, BACKENDS))}")
    return backend

def choose_backend(x: torch.Tensor, backend: str, dtypes: tuple, defaults: dict) -> str:
    "'numba' or 'torch' for `x`: `backend` if it can run, `defaults[device]` for 'auto' (torch where the kernel cannot run)."
    check_backend(backend)
    dev = x.device.type
    ok = x.dtype in dtypes and (dev == 'cpu' or (dev == 'cuda' and _cuda.gpu_available() and not _cuda.SIMULATOR))
    if backend == 'torch': return 'torch'
    if backend == 'numba':
        if not ok:
            raise ValueError(f"backend='numba' cannot run on a {x.dtype} tensor on {x.device}; these Numba kernels take "
                             f"{', '.join(str(d).split('.')[-1] for d in dtypes)} on 'cpu' or 'cuda'")
        return 'numba'
    return defaults.get(dev, 'torch') if ok else 'torch'

def dispatch(x: torch.Tensor, backend: str = 'auto') -> str:
    "The path `paste_boxes`/`fill_boxes` take for `x`: 'numba' (CPU or CUDA kernel) or 'torch'."
    return choose_backend(x, backend, NUMBA_DTYPES, DEFAULT_BACKEND)

def _check_x(x, name='x'):
    if not isinstance(x, torch.Tensor): raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4: raise ValueError(f"{name} has shape {tuple(x.shape)}; expected an N×C×H×W batch (4 dimensions)")

def _check_boxes(boxes, n, h, w):
    if not isinstance(boxes, torch.Tensor) or boxes.shape != (n, 4) or boxes.is_floating_point():
        raise ValueError(f"boxes must be an integer tensor of shape ({n}, 4) holding (y0, y1, x0, x1); got "
                         f"{tuple(boxes.shape) if isinstance(boxes, torch.Tensor) else type(boxes).__name__}")
    if n == 0: return
    b = boxes.long()
    lo = torch.zeros(4, dtype=torch.long, device=b.device)
    hi = torch.tensor([h, h, w, w], dtype=torch.long, device=b.device)
    if bool(((b < lo) | (b > hi)).any() | (b[:, 1] < b[:, 0]).any() | (b[:, 3] < b[:, 2]).any()):
        raise ValueError(f"boxes must satisfy 0 ≤ y0 ≤ y1 ≤ {h} and 0 ≤ x0 ≤ x1 ≤ {w}")

def _out(x, out):
    if out is None: return torch.empty_like(x, memory_format=torch.contiguous_format)
    if out.shape != x.shape or out.dtype != x.dtype or out.device != x.device or not out.is_contiguous():
        raise ValueError(f"out must be a contiguous {x.dtype} tensor of shape {tuple(x.shape)} on {x.device}")
    return out

def _sync_threads():
    "Run Numba's parallel loops on as many threads as torch uses, and keep torch's count (starting Numba's OpenMP layer resets it)."
    t = torch.get_num_threads()
    n = max(1, min(t, numba.config.NUMBA_NUM_THREADS))
    if numba.get_num_threads() != n: numba.set_num_threads(n)
    if torch.get_num_threads() != t: torch.set_num_threads(t)

def paste_boxes(x: torch.Tensor, perm: torch.Tensor, boxes: torch.Tensor, out: torch.Tensor | None = None,
                backend: str = 'auto', check: bool = True) -> torch.Tensor:
    "Mixed batch whose sample `i` is `x[i]` with box `boxes[i]` = (y0, y1, x0, x1) taken from `x[perm[i]]`."
    _check_x(x)
    n, c, h, w = x.shape
    if check:
        if not isinstance(perm, torch.Tensor) or perm.shape != (n,) or perm.is_floating_point():
            raise ValueError(f"perm must be an integer tensor of shape ({n},)")
        if n and (int(perm.min()) < 0 or int(perm.max()) >= n): raise ValueError(f"perm values must lie in [0, {n})")
        _check_boxes(boxes, n, h, w)
        if out is not None and out.data_ptr() == x.data_ptr():
            raise ValueError("out must not be x: partners must be read unmodified (use a fresh tensor or out=None)")
    path = dispatch(x, backend)
    if path == 'torch': return paste_boxes_torch(x, perm.to(x.device), boxes, out=out)
    x = x.contiguous(); out = _out(x, out)
    perm = perm.to(device=x.device, dtype=torch.int64).contiguous()
    boxes = boxes.to(device=x.device, dtype=torch.int64).contiguous()
    if x.device.type == 'cpu':
        _sync_threads()
        _paste_cpu(x.numpy(), perm.numpy(), boxes.numpy(), out.numpy())
    else:
        A = _cuda.as_cuda_array
        paste_boxes_cuda(A(x), A(perm), A(boxes), A(out), stream=_cuda.torch_stream(x))
    return out

def fill_boxes(x: torch.Tensor, boxes: torch.Tensor, values, out: torch.Tensor | None = None,
               backend: str = 'auto', check: bool = True) -> torch.Tensor:
    "Batch whose sample `i` is `x[i]` with box `boxes[i]` filled with `values[i, c]` per channel; `out=x` fills in place."
    _check_x(x)
    n, c, h, w = x.shape
    if not isinstance(values, torch.Tensor): values = torch.as_tensor(values)
    if values.ndim == 0: values = values.expand(n, c)
    if check:
        _check_boxes(boxes, n, h, w)
        if values.shape != (n, c): raise ValueError(f"values must have shape ({n}, {c}) (one per sample and channel), got {tuple(values.shape)}")
    path = dispatch(x, backend)
    if path == 'torch': return fill_boxes_torch(x, boxes, values, out=out)
    inplace = out is x
    if inplace and not x.is_contiguous(): return fill_boxes_torch(x, boxes, values, out=out)
    x = x.contiguous(); out = x if inplace else _out(x, out)
    values = values.to(device=x.device, dtype=x.dtype).contiguous()
    boxes = boxes.to(device=x.device, dtype=torch.int64).contiguous()
    if x.device.type == 'cpu':
        _sync_threads()
        _fill_cpu(x.numpy(), boxes.numpy(), values.numpy(), out.numpy(), not inplace)
    else:
        A = _cuda.as_cuda_array
        fill_boxes_cuda(A(x), A(boxes), A(values), A(out), copy=not inplace, stream=_cuda.torch_stream(x))
    return out

def warmup(dtypes=(torch.float32,)):
    "Compile (or load from the cache) the CPU kernels for `dtypes`, so the first real call is not a compile."
    for dt in dtypes:
        x = torch.zeros(2, 1, 2, 2, dtype=dt)
        b = torch.tensor([[0, 1, 0, 1], [1, 2, 1, 2]])
        paste_boxes(x, torch.tensor([1, 0]), b, backend='numba')
        fill_boxes(x, b, torch.zeros(2, 1, dtype=dt), backend='numba')
        fill_boxes(x, b, torch.zeros(2, 1, dtype=dt), out=x, backend='numba')
