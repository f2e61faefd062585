"""Stored numbers stay tied to the code that claims them: every committed results.json was made by the recipe the
code now defines, and every shipped zoo model was made by its entry's recipe and still scores what its record says."""
import json
from pathlib import Path
import pytest
from vislab.lab import zoo
from vislab.lab.results import Results
from vislab.lab.core import get_recipe

ROOT = Path(__file__).parents[1]
STORED = sorted((ROOT/'results').rglob('results.json'))

def test_some_results_are_stored(): assert STORED, 'no results/**/results.json committed'

@pytest.mark.parametrize('path', STORED, ids=lambda p: str(p.parent.relative_to(ROOT)))
def test_stored_results_match_their_recipes(path):
    d = json.loads(path.read_text())
    res = Results.load(path)
    assert res.records and set(res.configs) == {r['recipe'] for r in res.records}
    for name, config in res.configs.items():
        assert get_recipe(name).config(**d['overrides']) == config, \
            f"{path}: recipe {name!r} changed since these numbers were made; rerun `vislab run {name} --out {path.parent}`"

SHIPPED = sorted(p.stem for p in zoo.PACKAGED.glob('*.pth'))

@pytest.mark.parametrize('name', SHIPPED)
def test_shipped_zoo_model_matches_its_record(name):
    rec = zoo.record(name)
    assert rec['recipe'] == zoo.get_entry(name).recipe.config(), f"zoo {name!r}: its recipe changed; retrain it"
    if rec['dataset'].startswith('cifar10'):
        pytest.importorskip('PIL')
        try: zoo.zoo_dls(name)
        except FileNotFoundError: pytest.skip('CIFAR-10 is not available here (set VISLAB_DATA)')
    c = zoo.check(name)
    assert abs(c['measured'] - c['recorded']) < 1e-4, c   # float32 kernels differ a little across CPUs (sampling models)
