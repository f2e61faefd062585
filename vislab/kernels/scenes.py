"""The scene renderer of `vislab.data.scenes`: a batch of laid-out scenes to RGB images and object maps.

`vislab.data.scenes.render` turns scene descriptions into a *layout* on the host -- integer arrays only, the same for every
path -- and one of three renderers paints it:

* a CPU kernel (`numba.njit(parallel=True)`, `prange` over the scenes): each scene's background is painted pixel by
  pixel, then each object inside its own box only, in order, so later objects lie on top;
* a CUDA kernel (`numba.cuda.jit`, a grid-stride loop over all pixels, one thread per pixel, which walks the objects
  and keeps the last one covering it), reached through the shim `._cuda`;
* plain torch (`render_torch`), vectorised over the batch and the pixels with one pass per object slot: the reference
  the tests compare against, and the benchmark's peer.

**The layout** (`render_*` arguments), for `n` scenes of at most `m` objects, at `size`×`size` pixels:

* `boxes` int32 (n, m, 4): top row `y0`, left column `x0`, side (pixels) and shape code of each object's square box
  (0 circle, 1 square, 2 triangle, 3 cross, 4 digit bitmap; -1 no object). Boxes may stick out of the image: clipped.
* `rgb` uint8 (n, m, 3): each object's colour; `digit` int32 (n, m): its row of `bitmaps` (uint8 (k, B, B), 0/1,
  k ≥ 1), -1 for a shape;
* `bg`, `shade` uint8 (n, 3): the background colour and its shade; `texture` int32 (n,): 0 plain, 1 stripes, 2 dots,
  3 checks. Texture marks are painted in `bg`, the rest in `shade`; the pattern is defined on a 32×32 grid, each pixel
  at `(r·32 // size, c·32 // size)`.

Shapes are integer tests on doubled, centred coordinates of the box's pixels. A digit pixel is on when any bitmap
pixel it covers is on (the box's pixel grid laid over the bitmap's): nearest-neighbour scaling when the box is larger
than the bitmap, a max-pool when smaller -- plain nearest-neighbour sampling would drop thin strokes (a "one" vanishes
at 8 pixels).

All arithmetic is on integers (a shape test on doubled, centred coordinates; a bitmap cell by integer division), so
the three renderers give bit-identical images. Randomness never enters a kernel: `vislab.data.scenes.sample_scenes` draws
everything on the host. The CPU kernel earns its place by speed: 16-40× the torch renderer in `bench_scenes`
(`nbs/80_bench.ipynb`; numbers in `DEFAULT_BACKEND`'s comment).
"""
from __future__ import annotations
from numba import njit, prange
import torch
from . import _cuda
from ._cuda import cuda
from .mix import CACHE, _njit, _sync_threads

__all__ = ['BACKENDS', 'DEFAULT_BACKEND', 'dispatch', 'render_numba', 'render_cuda', 'render_torch', 'check_layout',
           'warmup']

# ---------------------------------------------------------------------------------------------------------------
# the per-pixel rules, written once in plain Python and compiled for each target

def _mark_py(t, u, v):
    "Whether cell (u, v) of the 32×32 texture grid is a mark (painted in the background colour) for texture `t`."
    if t == 1: return (u // 2) % 2 == 0
    if t == 2: return (u % 4 == 1 or u % 4 == 2) and (v % 4 == 1 or v % 4 == 2)
    if t == 3: return (u // 4 + v // 4) % 2 == 0
    return True

def _inside_py(shape, a, b, side, bitmaps, d):
    "Whether pixel (a, b) of a `side`-pixel box (0 ≤ a, b < side) belongs to the object (a digit: any bitmap pixel it covers)."
    q = 2 * a + 1 - side
    p = 2 * b + 1 - side
    if shape == 0: return q * q + p * p <= side * side
    if shape == 1: return True
    if shape == 2: return 2 * abs(p) <= q + side + 1
    if shape == 3: return 3 * abs(q) <= side or 3 * abs(p) <= side
    B = bitmaps.shape[1]
    for y in range(a * B // side, ((a + 1) * B - 1) // side + 1):
        for x in range(b * B // side, ((b + 1) * B - 1) // side + 1):
            if bitmaps[d, y, x] != 0: return True
    return False

def _helper(fn):
    if CACHE:
        try: return njit(cache=True, nogil=True)(fn)
        except Exception: pass  # pragma: no cover
    return njit(nogil=True)(fn)

_mark = _helper(_mark_py)
_inside = _helper(_inside_py)

# ---------------------------------------------------------------------------------------------------------------
# CPU kernel

def _render_cpu_py(boxes, rgb, digit, bitmaps, bg, shade, texture, img, objmap):
    n, m = boxes.shape[0], boxes.shape[1]
    S = img.shape[2]
    for i in prange(n):
        t = texture[i]
        for r in range(S):
            u = r * 32 // S
            for c in range(S):
                if _mark(t, u, c * 32 // S):
                    img[i, 0, r, c] = bg[i, 0]; img[i, 1, r, c] = bg[i, 1]; img[i, 2, r, c] = bg[i, 2]
                else:
                    img[i, 0, r, c] = shade[i, 0]; img[i, 1, r, c] = shade[i, 1]; img[i, 2, r, c] = shade[i, 2]
                objmap[i, r, c] = -1
        for j in range(m):
            shape = boxes[i, j, 3]
            if shape < 0: continue
            y0, x0, side, d = boxes[i, j, 0], boxes[i, j, 1], boxes[i, j, 2], digit[i, j]
            for r in range(max(y0, 0), min(y0 + side, S)):
                for c in range(max(x0, 0), min(x0 + side, S)):
                    if _inside(shape, r - y0, c - x0, side, bitmaps, d):
                        img[i, 0, r, c] = rgb[i, j, 0]; img[i, 1, r, c] = rgb[i, j, 1]; img[i, 2, r, c] = rgb[i, j, 2]
                        objmap[i, r, c] = j

_render_cpu = _njit(_render_cpu_py)

# ---------------------------------------------------------------------------------------------------------------
# CUDA kernel (compiled lazily, on the first launch; all CUDA names come from the shim)

_mark_dev = _cuda.jit(device=True)(_mark_py)
_inside_dev = _cuda.jit(device=True)(_inside_py)

@_cuda.jit
def _render_cuda(boxes, rgb, digit, bitmaps, bg, shade, texture, img, objmap):
    n, m = boxes.shape[0], boxes.shape[1]
    S = img.shape[2]
    total = n * S * S
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for idx in range(start, total, stride):
        c = idx % S
        t = idx // S
        r = t % S
        i = t // S
        top = -1
        for j in range(m):
            shape = boxes[i, j, 3]
            if shape >= 0:
                a = r - boxes[i, j, 0]
                b = c - boxes[i, j, 1]
                side = boxes[i, j, 2]
                if a >= 0 and a < side and b >= 0 and b < side:
                    if _inside_dev(shape, a, b, side, bitmaps, digit[i, j]): top = j
        if top >= 0:
            for ch in range(3): img[i, ch, r, c] = rgb[i, top, ch]
        elif _mark_dev(texture[i], r * 32 // S, c * 32 // S):
            for ch in range(3): img[i, ch, r, c] = bg[i, ch]
        else:
            for ch in range(3): img[i, ch, r, c] = shade[i, ch]
        objmap[i, r, c] = top

def render_cuda(boxes, rgb, digit, bitmaps, bg, shade, texture, img, objmap, stream=0, threads=256, max_blocks=65535):
    "Launch the CUDA renderer on CUDA arrays (anything with `__cuda_array_interface__`, or simulator arrays)."
    n, _, S, _ = img.shape
    blocks, threads = _cuda.launch_config(n * S * S, threads, max_blocks)
    _render_cuda[blocks, threads, stream](boxes, rgb, digit, bitmaps, bg, shade, texture, img, objmap)
    return img, objmap

# ---------------------------------------------------------------------------------------------------------------
# plain torch: the reference, and the benchmark's peer

def _texture_marks(size: int, device=None) -> torch.Tensor:
    "The four texture patterns at `size`×`size` (4, size, size): True where the background colour is painted."
    u = torch.arange(size, device=device) * 32 // size
    U, V = u[:, None], u[None, :]
    mid = lambda w: (w % 4 == 1) | (w % 4 == 2)
    return torch.stack([torch.ones(size, size, dtype=torch.bool, device=device), ((U // 2) % 2 == 0).expand(size, size),
                        mid(U) & mid(V), (U // 4 + V // 4) % 2 == 0])

def render_torch(boxes, rgb, digit, bitmaps, bg, shade, texture, size: int):
    "Plain vectorised torch renderer of a layout: images uint8 (n, 3, size, size) and object map int8 (n, size, size)."
    n, m = boxes.shape[:2]
    dev = boxes.device
    S, B = size, bitmaps.shape[1]
    mark = _texture_marks(S, dev)[texture.long()]
    img = torch.where(mark[:, None], bg[:, :, None, None], shade[:, :, None, None])
    objmap = torch.full((n, S, S), -1, dtype=torch.int8, device=dev)
    ar = torch.arange(S, device=dev)
    bx = boxes.long()
    sat = torch.nn.functional.pad((bitmaps != 0).long().cumsum(1).cumsum(2), (1, 0, 1, 0))  # summed-area table
    for j in range(m):
        y0, x0, side, shape = (bx[:, j, k].view(n, 1, 1) for k in range(4))
        a, b = ar.view(1, S, 1) - y0, ar.view(1, 1, S) - x0
        inbox = (a >= 0) & (a < side) & (b >= 0) & (b < side) & (shape >= 0)
        q, p = 2 * a + 1 - side, 2 * b + 1 - side
        sd, d = side.clamp(min=1), digit[:, j].long().clamp(min=0).view(n, 1, 1)
        r0, r1 = (a * B // sd).clamp(0, B), (((a + 1) * B - 1) // sd + 1).clamp(0, B)
        c0, c1 = (b * B // sd).clamp(0, B), (((b + 1) * B - 1) // sd + 1).clamp(0, B)
        bit = sat[d, r1, c1] - sat[d, r0, c1] - sat[d, r1, c0] + sat[d, r0, c0] > 0
        on = torch.where(shape == 0, q * q + p * p <= side * side,
             torch.where(shape == 1, True,
             torch.where(shape == 2, 2 * p.abs() <= q + side + 1,
             torch.where(shape == 3, (3 * q.abs() <= side) | (3 * p.abs() <= side), bit)))) & inbox
        img = torch.where(on[:, None], rgb[:, j, :, None, None], img)
        objmap = torch.where(on, torch.tensor(j, dtype=torch.int8, device=dev), objmap)
    return img, objmap

# ---------------------------------------------------------------------------------------------------------------
# checks and dispatch

_LAYOUT = (('boxes', torch.int32, 3), ('rgb', torch.uint8, 3), ('digit', torch.int32, 2), ('bitmaps', torch.uint8, 3),
           ('bg', torch.uint8, 2), ('shade', torch.uint8, 2), ('texture', torch.int32, 1))

def check_layout(boxes, rgb, digit, bitmaps, bg, shade, texture):
    "Check a layout's dtypes, shapes and index ranges (a kernel would read out of bounds otherwise)."
    for (name, dt, nd), t in zip(_LAYOUT, (boxes, rgb, digit, bitmaps, bg, shade, texture)):
        if not isinstance(t, torch.Tensor) or t.dtype != dt or t.ndim != nd:
            raise ValueError(f"{name} must be a {dt} tensor with {nd} dimensions, got "
                             f"{getattr(t, 'dtype', type(t).__name__)} of shape {tuple(getattr(t, 'shape', ()))}")
    n, m = boxes.shape[:2]
    if boxes.shape[2] != 4 or rgb.shape != (n, m, 3) or digit.shape != (n, m) or bg.shape != (n, 3) \
            or shade.shape != (n, 3) or texture.shape != (n,):
        raise ValueError(f"layout shapes disagree: boxes {tuple(boxes.shape)} (n, m, 4), rgb {tuple(rgb.shape)} (n, m, 3), "
                         f"digit {tuple(digit.shape)} (n, m), bg/shade (n, 3), texture (n,)")
    if len(bitmaps) < 1 or bitmaps.shape[1] != bitmaps.shape[2]:
        raise ValueError(f"bitmaps must be k ≥ 1 square bitmaps, got shape {tuple(bitmaps.shape)}")
    if n == 0: return
    shape, side = boxes[..., 3], boxes[..., 2]
    if bool(((shape < -1) | (shape > 4)).any() | ((shape >= 0) & (side < 1)).any()):
        raise ValueError("boxes: shape codes must lie in [-1, 4] and sides of objects be ≥ 1")
    if bool(((shape == 4) & ((digit < 0) | (digit >= len(bitmaps)))).any()):
        raise ValueError(f"digit must index bitmaps (0 ≤ digit < {len(bitmaps)}) wherever the shape is a digit (4)")
    if bool(((texture < 0) | (texture > 3)).any()): raise ValueError("texture codes must lie in [0, 3]")

BACKENDS = ('auto', 'numba', 'torch')   # the vocabulary of every vislab kernel: `device` says which Numba kernel runs

#: What `backend='auto'` runs on each device: the CPU kernel on 'cpu'. In the stored benchmark (`bench_scenes`,
#: nbs/80_bench.ipynb; 2,048 scenes of one to three objects, shared 2-core AMD EPYC) it rendered 47k 32×32 scenes/s on
#: one thread and 62k on two, 16-17× `render_torch`, and 19k 64×64 scenes/s, 36-40× torch. The default device is the
#: CPU, so 'auto' never picks the GPU by itself: outputs stay on the host unless `device='cuda'` is asked for.
DEFAULT_BACKEND = {'cpu': 'numba', 'cuda': 'torch'}

def dispatch(backend: str = 'auto', device='cpu') -> str:
    "The renderer `backend` runs on `device` ('cpu' or 'cuda'): 'numba' (the CPU or the CUDA kernel) or 'torch'."
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not one of the allowed values: {', '.join(map(repr, BACKENDS))}")
    try: dev = torch.device(device).type
    except (RuntimeError, TypeError): dev = None
    if dev not in DEFAULT_BACKEND: raise ValueError(f"device={device!r} is not one of the allowed values: 'cpu', 'cuda'")
    if dev == 'cuda' and not torch.cuda.is_available(): raise ValueError(f"device={device!r} needs a CUDA GPU; use 'cpu' here")
    kernel = dev == 'cpu' or (_cuda.gpu_available() and not _cuda.SIMULATOR)
    if backend == 'numba' and not kernel:
        raise ValueError(f"backend='numba' on device={device!r} needs a GPU that Numba can use; use backend='torch'")
    return backend if backend != 'auto' else DEFAULT_BACKEND[dev] if kernel else 'torch'

def render_numba(boxes, rgb, digit, bitmaps, bg, shade, texture, size: int, device='cpu'):
    "Render a layout with the CPU kernel (`device='cpu'`) or the CUDA kernel (`'cuda'`; outputs on the GPU)."
    n, m = boxes.shape[:2]
    dev = torch.device(device)
    args = [t.to(dev).contiguous() for t in (boxes, rgb, digit, bitmaps, bg, shade, texture)]
    img = torch.empty((n, 3, size, size), dtype=torch.uint8, device=dev)
    objmap = torch.empty((n, size, size), dtype=torch.int8, device=dev)
    if n == 0: return img, objmap
    if dev.type == 'cpu':
        _sync_threads()
        _render_cpu(*(a.numpy() for a in args), img.numpy(), objmap.numpy())
    else:
        A = _cuda.as_cuda_array
        render_cuda(*(A(a) for a in args), A(img), A(objmap), stream=_cuda.torch_stream(img))
    return img, objmap

def warmup():
    "Compile (or load from the cache) the CPU kernel, so the first real call is not a compile."
    z = lambda *s, dt=torch.int32: torch.zeros(s, dtype=dt)
    boxes = torch.tensor([[[0, 0, 2, 4]]], dtype=torch.int32)
    render_numba(boxes, z(1, 1, 3, dt=torch.uint8), z(1, 1), z(1, 2, 2, dt=torch.uint8), z(1, 3, dt=torch.uint8),
                 z(1, 3, dt=torch.uint8), z(1), 4)
