"""Execute notebooks and store their outputs, the way the docs show them.

    python tools/run_nbs.py nbs/10_mix.ipynb               # default path: skips `#| slow` and `#| cuda` cells
    python tools/run_nbs.py nbs/10_mix.ipynb --flags slow  # also runs (and refreshes) the slow cells

It runs exactly the cells `nbdev-test` runs (plus `--flags`); skipped cells keep the outputs of their
last real run, so the docs show real results. Run `nbdev-clean` afterwards."""
import argparse, sys
from pathlib import Path
from nbdev.config import get_config
from nbdev.test import test_nb

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('notebooks', nargs='+')
    p.add_argument('--flags', default='', help='space-separated flags to run as well, e.g. "slow"')
    a = p.parse_args()
    for f in a.notebooks:
        ok, secs = test_nb(Path(f).resolve(), skip_flags=get_config().tst_flags.split(), force_flags=a.flags.split(), save=True)
        print(f'{f}: {"ok" if ok else "FAILED"} in {secs:.1f}s')
        if not ok: sys.exit(1)
