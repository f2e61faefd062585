"""Every `vislab` module imports in a fresh interpreter started at the repository root, the way nbdev's notebook
tests, `python -m pytest`, `python -c` and a notebook server started there put the root on `sys.path`.

A folder at the root that is a regular package shadows any installed distribution of the same name: a top-level
`kernels/` once hid Hugging Face's `kernels` (which transformers needs and diffusers imports), and every module
that touched diffusers failed to import. The kernels now live in `vislab/kernels/`; these tests keep it so."""
import importlib.metadata, json, pkgutil, subprocess, sys
from pathlib import Path
import vislab

ROOT = Path(__file__).resolve().parents[1]

def vislab_modules():
    "Every module of the package, by walking the source tree."
    return sorted(m.name for m in pkgutil.walk_packages([str(ROOT/'vislab')], prefix='vislab.'))

def test_no_root_folder_is_a_package():
    pkgs = sorted(p.name for p in ROOT.iterdir() if (p/'__init__.py').is_file())
    assert pkgs == ['vislab'], f'folders at the repository root that shadow installed packages: {pkgs}'

def test_every_module_imports_from_the_root():
    # the PyPI `kernels` must be installed for this to test anything (the dev extra names it)
    assert importlib.metadata.version('kernels')
    mods = vislab_modules()
    assert {'vislab.kernels', 'vislab.kernels.mix', 'vislab.core', 'vislab.generate.edit', 'vislab.generate.diffusion'} <= set(mods)
    code = ('import importlib, json, sys\n'
            f'for m in {mods!r}: importlib.import_module(m)\n'
            'import kernels\n'
            'print(json.dumps(dict(kernels=kernels.__file__, vislab=sys.modules["vislab"].__file__, n=len(sys.modules))))')
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    installed = importlib.metadata.distribution('kernels').locate_file('kernels/__init__.py')
    assert Path(out['kernels']).resolve() == Path(installed).resolve(), out  # the installed `kernels`, not a folder of ours
    assert Path(out['vislab']).resolve().is_relative_to(ROOT/'vislab'), out
