"""Runs spread over processes, as a user on a machine with several cores (or a cluster) would start them: a recipe ×
seed grid on two Dask workers, and one training run data-parallel on two processes (gloo) through `accelerate launch`."""
import json, os, shutil, subprocess, sys
import pytest
import torch
from vislab.lab.core import run

pytest.importorskip('distributed'); pytest.importorskip('accelerate')

def test_two_worker_grid_equals_serial():
    from distributed import Client, LocalCluster
    torch.set_num_threads(1)  # as the workers run
    kw = dict(seeds=[0, 1], epochs=1, n_train=256, log=None)
    serial = run('baseline', **kw)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
         Client(cluster) as client:
        parallel = run('baseline', executor=client.get_executor(), **kw)
    assert [(r['recipe'], r['seed']) for r in parallel.records] == [('baseline', 0), ('baseline', 1)]
    assert [r['metrics'] for r in parallel.records] == [r['metrics'] for r in serial.records]
    assert [r['details'] for r in parallel.records] == [r['details'] for r in serial.records]

def test_data_parallel_two_processes(tmp_path):
    accelerate = shutil.which('accelerate', path=os.path.dirname(sys.executable)) or 'accelerate'
    cmd = [accelerate, 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
           '--dynamo_backend', 'no', '-m', 'vislab.lab.cli', 'run', 'baseline', '--epochs', '1', '--n-train', '512',
           '--quiet', '--out', str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'CUDA_VISIBLE_DEVICES': ''}, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count('vislab run: baseline') == 1  # the first process alone reports
    rec, = json.loads((tmp_path/'results.json').read_text())['records']
    assert rec['processes'] == 2 and rec['n_images'] == 512 and 0 <= rec['metrics']['accuracy'] <= 1
