"""The scene renderer of `vislab.kernels.scenes` (CPU kernel) against its plain-torch reference `render_torch`, byte for
byte, on random layouts (boxes sticking out of the image, every shape code, digit bitmaps enlarged and shrunk, every
texture, odd sizes); and through `vislab.data.scenes.render` on sampled scenes; dispatch and layout checks.

The CUDA kernel is tested in Numba's simulator by tests/test_scenes_kernel_cudasim.py, in a process of its own:
    NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/test_scenes_kernel_cudasim.py"""
import pytest
import torch
from vislab.kernels import scenes as K

def random_layout(n, m, size, seed=0, k=5, B=20):
    "A random layout: boxes anywhere (partly outside too) of any side up to the image, shapes -1..4, random bitmaps."
    g = torch.Generator().manual_seed(seed)
    ri = lambda lo, hi, s: torch.randint(lo, hi, s, generator=g)
    side = ri(1, size + 1, (n, m))
    y0, x0 = ri(-size // 3, size, (n, m)), ri(-size // 3, size, (n, m))
    shape = ri(-1, 5, (n, m))
    boxes = torch.stack([y0, x0, side, shape], -1).int()
    digit = torch.where(shape == 4, ri(0, k, (n, m)), -1).int()
    bitmaps = (torch.rand(k, B, B, generator=g) > .7).to(torch.uint8)
    u8 = lambda s: ri(0, 256, s).to(torch.uint8)
    return boxes, u8((n, m, 3)), digit, bitmaps, u8((n, 3)), u8((n, 3)), ri(0, 4, (n,)).int()

@pytest.mark.parametrize('n,m,size', [(40, 1, 32), (40, 3, 32), (30, 5, 64), (25, 2, 8), (25, 4, 17), (3, 2, 100), (0, 2, 16)])
def test_cpu_kernel_matches_torch(n, m, size):
    lay = random_layout(n, m, size, seed=n + m + size)
    K.check_layout(*lay)
    img, om = K.render_numba(*lay, size)
    ref_img, ref_om = K.render_torch(*lay, size)
    assert img.shape == (n, 3, size, size) and img.dtype == torch.uint8 and om.dtype == torch.int8
    assert torch.equal(img, ref_img) and torch.equal(om, ref_om)
    if n: assert (om >= 0).any() and (om < 0).any()

def test_rules_by_hand():
    "A 16×16 plain scene with one large square and one small circle on top; a digit bitmap shrunk keeps a thin stroke."
    boxes = torch.tensor([[[2, 2, 8, 1], [6, 6, 4, 0], [0, 0, 0, -1]]], dtype=torch.int32)
    rgb = torch.tensor([[[200, 0, 0], [0, 200, 0], [0, 0, 0]]], dtype=torch.uint8)
    bits = torch.zeros(1, 20, 20, dtype=torch.uint8)
    args = (boxes, rgb, torch.full((1, 3), -1, dtype=torch.int32), bits, torch.tensor([[10, 10, 10]], dtype=torch.uint8),
            torch.tensor([[5, 5, 5]], dtype=torch.uint8), torch.tensor([0], dtype=torch.int32))
    for img, om in (K.render_numba(*args, 16), K.render_torch(*args, 16)):
        want = torch.full((16, 16), -1, dtype=torch.int8)
        want[2:10, 2:10] = 0
        want[6:10, 6:10] = torch.tensor([[0, 1, 1, 0], [1, 1, 1, 1], [1, 1, 1, 1], [0, 1, 1, 0]], dtype=torch.int8)
        assert torch.equal(om[0], want)
        assert (img[0, :, om[0] < 0] == 10).all() and (img[0, 0, om[0] == 0] == 200).all()
    bits[0, :, 10] = 1                                             # a one-pixel vertical stroke
    boxes = torch.tensor([[[0, 0, 8, 4]]], dtype=torch.int32)
    args = (boxes, rgb[:, :1], torch.zeros(1, 1, dtype=torch.int32), bits) + args[4:]
    for _, om in (K.render_numba(*args, 8), K.render_torch(*args, 8)):
        assert (om[0] == 0).sum(1).tolist() == [1] * 8              # still there, one pixel wide on every row

def test_textures():
    n, size = 4, 32
    boxes = torch.full((n, 1, 4), -1, dtype=torch.int32)
    z = torch.zeros(n, 1, 3, dtype=torch.uint8)
    bg, shade = torch.full((n, 3), 100, dtype=torch.uint8), torch.full((n, 3), 50, dtype=torch.uint8)
    img, _ = K.render_numba(boxes, z, torch.full((n, 1), -1, dtype=torch.int32), torch.zeros(1, 20, 20, dtype=torch.uint8),
                            bg, shade, torch.arange(4, dtype=torch.int32), size)
    frac = (img[:, 0] == 100).float().mean((1, 2))
    assert frac.tolist() == [1.0, 0.5, 0.25, 0.5]                # plain, stripes, dots, checks

def test_render_backends_agree_on_scenes():
    from vislab.data.scenes import sample_scenes, render
    s = sample_scenes(64, n_objects=(1, 3), seed=7)
    for size in (32, 24, 48):
        ref = render(s, size, backend='torch')
        out = render(s, size, backend='numba')
        assert torch.equal(out[0], ref[0]) and torch.equal(out[1], ref[1])

def test_dispatch_and_checks():
    assert K.dispatch() == 'numba' and K.dispatch('numba') == 'numba' and K.dispatch('torch', 'cpu') == 'torch'
    with pytest.raises(ValueError, match=r"backend='gpu' is not one of the allowed values: 'auto', 'numba', 'torch'"):
        K.dispatch('gpu')
    for dev in ('tpu', 'meta'):
        with pytest.raises(ValueError, match=rf"device='{dev}' is not one of the allowed values: 'cpu', 'cuda'"): K.dispatch('auto', dev)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device='cuda' needs a CUDA GPU"): K.dispatch('numba', 'cuda')
    lay = list(random_layout(3, 2, 16))
    bad = lay.copy(); bad[0] = bad[0].long()
    with pytest.raises(ValueError, match='boxes must be a torch.int32 tensor'): K.check_layout(*bad)
    bad = lay.copy(); bad[2] = torch.full((3, 2), 9, dtype=torch.int32); bad[0] = bad[0].clone(); bad[0][..., 3] = 4
    with pytest.raises(ValueError, match='digit must index bitmaps'): K.check_layout(*bad)
    bad = lay.copy(); bad[6] = torch.full((3,), 4, dtype=torch.int32)
    with pytest.raises(ValueError, match=r'texture codes must lie in \[0, 3\]'): K.check_layout(*bad)

def test_warmup_keeps_torch_threads():
    threads = torch.get_num_threads()
    K.warmup()
    assert torch.get_num_threads() == threads

@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_cuda_matches_torch():
    lay = random_layout(50, 3, 32, seed=1)
    img, om = K.render_numba(*lay, 32, device='cuda')
    ref_img, ref_om = K.render_torch(*lay, 32)
    assert torch.equal(img.cpu(), ref_img) and torch.equal(om.cpu(), ref_om)
