"""The `vislab` command as a shell user meets it: exit codes and messages of bad input, help on each command."""
import subprocess, sys
import pytest
from vislab.lab.cli import main

def test_shell_exit_code_and_help():
    r = subprocess.run([sys.executable, '-m', 'vislab.lab.cli', 'run', 'nosuch'], capture_output=True, text=True)
    assert r.returncode == 2 and "recipe='nosuch' is not one of the allowed values" in r.stderr, r
    r = subprocess.run([sys.executable, '-m', 'vislab.lab.cli', '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and 'usage: vislab' in r.stdout

@pytest.mark.parametrize('cmd', ['run', 'list', 'bench'])
def test_help(cmd, capsys):
    with pytest.raises(SystemExit) as e: main([cmd, '--help'])
    assert e.value.code == 0 and f'usage: vislab {cmd}' in capsys.readouterr().out

def rc_of(args):
    try: return main(list(args))
    except SystemExit as e: return e.code

@pytest.mark.parametrize('args, msg', [
    (('run', 'nosuch'), "recipe='nosuch' is not one of the allowed values"),
    (('run', 'baseline', '--dataset', 'svhn'), "dataset='svhn' is not one of the allowed values"),
    (('run', 'baseline', '--epochs', '-1'), "argument --epochs: '-1' must be > 0"),
    (('run', 'baseline', '--seeds', 'x'), "argument --seeds"),
    (('run', 'baseline', '--imbalance', '0.5', '--epochs', '1'), 'imbalance=0.5'),
    (('bench', 'nosuch'), "bench='nosuch' is not one of the allowed values"),
    (('fly',), "invalid choice: 'fly'"),
])
def test_bad_input(args, msg, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a run that wrongly started would write here, not in the tree
    assert rc_of(args) == 2
    assert msg in capsys.readouterr().err

def test_list(capsys):
    assert main(['list']) == 0
    out = capsys.readouterr().out
    assert 'baseline' in out and 'cifar10' in out and 'resnet8' in out

def test_datasets_and_archs_load_their_module_on_first_use():
    "A dataset or architecture another module registers is found through the catalog, in a fresh process."
    code = ("from vislab.data.core import load_data; from vislab.models import create_model; "
            "print(load_data('mnist5k-lowq').groups['degraded'], type(create_model('video-gru', 1, 4)).__name__)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ['[5,', '6,', '7,', '8,', '9]', 'VideoNet']

def test_bench_prints_every_table_once_and_writes_them_all(capsys, tmp_path, monkeypatch):
    import json
    import vislab.bench.scenes  # registers 'scenes': a fast stand-in replaces it below
    from vislab.bench.core import BENCHES
    tables = {'first measurement': [dict(method='a', ms=1.5), dict(method='b', ms=3.)], 'second': [dict(n=2)]}
    def stand_in(quick):
        assert quick
        return tables
    monkeypatch.setitem(BENCHES, 'scenes', stand_in)
    assert main(['bench', 'scenes', '--quick', '--out', str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count('environment: ') == 1 and 'first measurement:\nmethod  ms\n     a 1.5\n     b   3' in out and 'second:\n n\n 2' in out
    rec = json.loads((tmp_path/'bench-scenes.json').read_text())
    assert rec['bench'] == 'scenes' and rec['tables'] == tables and 'torch' in rec['environment']
