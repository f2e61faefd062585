"""A literate, Jupyter-first lab of computer-vision techniques: mixing, curriculum, distillation, pruning, quantisation, CAMs, small diffusion models.

Modules:

- `vislab.kernels.mix`: Batched per-sample box kernels for CutMix (paste a partner's box) and Cutout (fill a box).
- `vislab.kernels.nm`: N:M sparsity masks: keep the `n` largest of every `m` consecutive weights along the input dimension.
- `vislab.kernels.scenes`: The scene renderer of `vislab.data.scenes`: a batch of laid-out scenes to RGB images and object maps.
- `vislab.kernels.stats`: Row moments in one pass: per row of an N×D tensor, the mean, the mean of squares, the maximum and the fraction > 0."""

__version__ = "0.0.1"
