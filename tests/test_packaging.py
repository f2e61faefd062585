"""The wheel, tried as a new user would: built from this tree, installed into a fresh virtual environment,
and imported there — including the hand-written `vislab.kernels`."""
import subprocess, sys, sysconfig, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def sh(*cmd, **kw): return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

def test_wheel_installs_and_imports(tmp_path):
    sh(sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-w', str(tmp_path/'dist'), str(ROOT))
    whl, = (tmp_path/'dist').glob('vislab-*.whl')
    names = zipfile.ZipFile(whl).namelist()
    assert 'vislab/kernels/__init__.py' in names and 'vislab/core.py' in names
    assert not any(n.startswith(('nbs/', 'tests/')) for n in names)
    assert any(n.endswith('entry_points.txt') for n in names)
    assert {'vislab/catalog.json', 'vislab/weights/mnist5k-resnet8.pth', 'vislab/weights/mnist5k-resnet8.json'} <= set(names)
    venv = tmp_path/'venv'
    sh(sys.executable, '-m', 'venv', str(venv))
    py = venv/'bin'/'python'
    sh(str(py), '-m', 'pip', 'install', '-q', '--no-deps', '--no-index', str(whl))
    # the new environment borrows the heavy dependencies (torch, numba, …) from this one, but not its vislab
    site = sh(str(py), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])').stdout.strip()
    Path(site, '_deps.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    code = ('import vislab, vislab.kernels, vislab.core, vislab.lab.cli; '
            'print(vislab.__file__); print(vislab.kernels.__file__)')
    out = sh(str(py), '-c', code, cwd=tmp_path).stdout.split()
    assert all(p.startswith(site) for p in out), out
    rc = subprocess.run([str(venv/'bin'/'vislab'), '--help'], capture_output=True, text=True, cwd=tmp_path)
    assert rc.returncode == 0 and 'run' in rc.stdout and 'bench' in rc.stdout
    rc = subprocess.run([str(venv/'bin'/'vislab'), 'list'], capture_output=True, text=True, cwd=tmp_path)
    assert rc.returncode == 0 and 'baseline' in rc.stdout and 'mnist5k-resnet8' in rc.stdout
    code = "from vislab.lab import zoo; m = zoo.load('mnist5k-resnet8', train=False); print(zoo.find('mnist5k-resnet8'))"
    assert sh(str(py), '-c', code, cwd=tmp_path).stdout.strip().startswith(site)
