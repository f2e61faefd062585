"""The one place vislab imports `numba.cuda`.

Every CUDA kernel in `vislab.kernels` is written against the `cuda` object exported here, so that

* a machine whose CUDA toolkit or driver is missing or broken still imports `vislab.kernels` (the CPU paths work,
  `HAVE_CUDA` is False and the CUDA launchers raise a clear error), and
* Numba's CUDA simulator (`NUMBA_ENABLE_CUDASIM=1`, set before Numba is first imported) can run the very same kernels
  on the CPU in tests, one Python thread per CUDA thread.
"""
from __future__ import annotations
import os

try:
    from numba import cuda
    HAVE_CUDA = True
except Exception as e:  # pragma: no cover - depends on the install
    cuda, HAVE_CUDA, _IMPORT_ERROR = None, False, e
# zero-copy views of torch CUDA tensors (absent in the simulator, which has no device memory to view)
as_cuda_array = getattr(cuda, 'as_cuda_array', None)
is_cuda_array = getattr(cuda, 'is_cuda_array', None)

__all__ = ['cuda', 'HAVE_CUDA', 'SIMULATOR', 'gpu_available', 'as_cuda_array', 'is_cuda_array', 'torch_stream',
           'launch_config', 'jit']

SIMULATOR = os.environ.get('NUMBA_ENABLE_CUDASIM', '0') == '1'


def gpu_available() -> bool:
    "Whether Numba can launch CUDA kernels here (a real GPU, or the simulator)."
    if not HAVE_CUDA: return False
    try: return bool(cuda.is_available())
    except Exception: return False  # pragma: no cover


def jit(fn=None, **kwargs):
    "`numba.cuda.jit`, or a stub that raises a clear error at launch when `numba.cuda` could not be imported."
    if HAVE_CUDA: return cuda.jit(fn, **kwargs) if fn is not None else cuda.jit(**kwargs)
    def stub(f):
        class _Missing:
            def __getitem__(self, cfg):
                raise RuntimeError(f"numba.cuda could not be imported ({_IMPORT_ERROR!r}); the CUDA path of "
                                   f"{f.__name__} is unavailable, use CPU tensors or backend='torch'")
        return _Missing()
    return stub(fn) if fn is not None else stub


def torch_stream(tensor):
    "The Numba stream wrapping torch's current CUDA stream on `tensor`'s device, so kernels queue behind torch's work."
    import torch
    return cuda.external_stream(torch.cuda.current_stream(tensor.device).cuda_stream)


def launch_config(n: int, threads: int = 256, max_blocks: int = 65535) -> tuple[int, int]:
    "Blocks and threads per block for a 1-D grid-stride loop over `n` elements."
    threads = max(1, min(int(threads), 1024))
    return max(1, min((int(n) + threads - 1) // threads, max_blocks)), threads
