"""Write vislab/catalog.json — every registered recipe, benchmark, zoo model, dataset and step, with the module that
registers it and its description — by importing every vislab module once, each after the vislab modules it imports.

    python tools/catalog.py           # rewrite it
    python tools/catalog.py --check   # exit 1 if it is out of date (CI)"""
import argparse, ast, importlib, json, pkgutil, sys, warnings
from pathlib import Path
import vislab

REGISTRIES = {'recipe': ('vislab.lab', 'RECIPES'), 'bench': ('vislab.bench', 'BENCHES'), 'zoo': ('vislab.zoo', 'ZOO'),
              'dataset': ('vislab.data', 'DATASETS'), 'step': ('vislab.lab', 'STEPS'), 'arch': ('vislab.models', 'ARCHS')}
PKG = Path(vislab.__file__).parent

def modules() -> list[str]:
    return sorted(f'vislab.{m.name}' for m in pkgutil.iter_modules(vislab.__path__)
                  if not m.name.startswith('_') and m.name not in ('cli', 'catalog'))

def deps(mod: str) -> list[str]:
    "The vislab modules `mod` imports at its top level."
    tree = ast.parse((PKG / f"{mod.split('.')[1]}.py").read_text())
    out = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            name = ('vislab.' + (node.module or '')) if node.level else (node.module or '')
            if name.startswith('vislab.') and name.count('.') == 1: out.append(name)
            elif name in ('vislab', 'vislab.') : out += [f'vislab.{a.name}' for a in node.names]
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.startswith('vislab.') and a.name.count('.') == 1]
    return [d for d in out if d in modules()]

def describe(obj) -> str:
    if isinstance(obj, str): return ''
    return getattr(obj, 'description', None) or (obj.__doc__ or '').strip().split('\n')[0]

def build() -> dict:
    owner, done = {k: {} for k in REGISTRIES}, []
    def registered():
        return {k: set(getattr(sys.modules[m], a, {})) if m in sys.modules else set() for k, (m, a) in REGISTRIES.items()}
    def visit(mod):
        if mod in done: return
        done.append(mod)
        for d in deps(mod): visit(d)
        before = registered()
        importlib.import_module(mod)
        for k, names in registered().items():
            for n in names - before[k]: owner[k][n] = mod
    for m in modules(): visit(m)
    regs = {k: getattr(sys.modules[m], a) for k, (m, a) in REGISTRIES.items() if m in sys.modules}
    entry = lambda reg, n: reg[n] if isinstance(reg, dict) else n
    return {k: {n: [owner[k][n], describe(entry(regs[k], n))] for n in sorted(regs[k])} for k in regs}

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--check', action='store_true')
    a = p.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        text = json.dumps(build(), indent=1, ensure_ascii=False) + '\n'
    f = PKG / 'catalog.json'
    if a.check:
        if not f.exists() or f.read_text() != text:
            print(f'{f} is out of date: run python tools/catalog.py and commit it'); sys.exit(1)
    else: f.write_text(text); print('wrote', f)
