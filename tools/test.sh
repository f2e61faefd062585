#!/usr/bin/env bash
# The whole test suite, in the environment on PATH (`bash .ci/run` makes one first):
# notebooks and library in sync, every notebook's tests, the docs build, then pytest (which drives that site in
# headless Chromium) and the CUDA kernels in Numba's simulator in a process of their own.
set -euo pipefail
cd "$(dirname "$0")/.."
# two notebooks or pytest workers run at once on two cores: one thread each, or OpenMP threads oversubscribe
# the cores and spin (measured: a training step 9× slower)
export MPLBACKEND=Agg PYTHONHASHSEED=0 OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
echo "== notebooks clean and exported"
nbdev-clean
nbdev-export
if [ -n "$(git status --porcelain -- nbs vislab)" ]; then
  git status --porcelain -- nbs vislab
  echo "nbdev-clean/nbdev-export changed the files above: run them and commit"; exit 1
fi
python tools/readme.py --check
python tools/catalog.py --check
echo "== notebook tests"
python tools/test_nbs.py --n-workers 2 --timing
echo "== docs"
python tools/build_docs.py --out _site
echo "== pytest (tests/test_browser.py drives the site just built in headless Chromium)"
VISLAB_SITE="$PWD/_site" python -m pytest -q -n 2 tests
echo "== CUDA kernels in Numba's simulator"
NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/test_kernels_cudasim.py tests/test_nm_kernel_cudasim.py tests/test_scenes_kernel_cudasim.py \
  tests/test_stats_kernel_cudasim.py
