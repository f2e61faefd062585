"""The `vislab` command as a shell user meets it: exit codes and messages of bad input, help on each command."""
import subprocess, sys
import pytest

def vislab(*args):
    return subprocess.run([sys.executable, '-m', 'vislab.cli', *args], capture_output=True, text=True)

@pytest.mark.parametrize('cmd', [(), ('run',), ('list',), ('bench',)])
def test_help(cmd):
    r = vislab(*cmd, '--help')
    assert r.returncode == 0 and 'usage: vislab' in r.stdout

@pytest.mark.parametrize('args, msg', [
    (('run', 'nosuch'), "recipe='nosuch' is not one of the allowed values"),
    (('run', 'baseline', '--dataset', 'svhn'), "dataset='svhn' is not one of the allowed values"),
    (('run', 'baseline', '--epochs', '-1'), "argument --epochs: '-1' must be > 0"),
    (('run', 'baseline', '--seeds', 'x'), "argument --seeds"),
    (('run', 'baseline', '--imbalance', '0.5', '--epochs', '1'), 'imbalance=0.5'),
    (('bench', 'nosuch'), "bench='nosuch' is not one of the allowed values"),
    (('fly',), "invalid choice: 'fly'"),
])
def test_bad_input(args, msg):
    r = vislab(*args)
    assert r.returncode == 2, r
    assert msg in r.stderr, r.stderr

def test_list():
    r = vislab('list')
    assert r.returncode == 0 and 'baseline' in r.stdout and 'cifar10' in r.stdout
