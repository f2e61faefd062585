"""Write vislab/catalog.json — every registered recipe, benchmark, zoo model, dataset and step, with the module that
registers it and its description — by importing every vislab module once, each after the vislab modules it imports.

    python tools/catalog.py           # rewrite it
    python tools/catalog.py --check   # exit 1 if it is out of date (CI)"""
import argparse, ast, importlib, json, pkgutil, sys, warnings
from pathlib import Path
import vislab

PKG = Path(vislab.__file__).parent

def modules() -> list[str]:
    "Every vislab module that may register names: not the kernels, the command line or the catalog itself."
    skip = ('vislab.kernels', 'vislab.lab.cli', 'vislab.lab.catalog')
    return sorted(m.name for m in pkgutil.walk_packages(vislab.__path__, 'vislab.')
                  if not m.ispkg and not m.name.rpartition('.')[2].startswith('_') and not m.name.startswith(skip))

def source(mod: str) -> Path: return PKG.joinpath(*mod.split('.')[1:]).with_suffix('.py')

def deps(mod: str) -> list[str]:
    "The vislab modules `mod` imports at its top level (relative imports resolved, `from pkg import module` too)."
    tree, pkg = ast.parse(source(mod).read_text()), mod.rpartition('.')[0]
    out = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            base = pkg.rsplit('.', node.level - 1)[0] if node.level else ''
            name = '.'.join(filter(None, [base, node.module]))
            out += [name, *(f'{name}.{a.name}' for a in node.names)]
        elif isinstance(node, ast.Import): out += [a.name for a in node.names]
    return [d for d in out if d in modules()]

def describe(obj) -> str:
    if isinstance(obj, str): return ''
    return getattr(obj, 'description', None) or (obj.__doc__ or '').strip().split('\n')[0]

def build() -> dict:
    "Import every module, each after the vislab modules it imports, and note which names each adds to which registry."
    from vislab.core import Registry
    from vislab.lab.catalog import KINDS
    regs = Registry.catalogued                       # filled as the modules defining the registries are imported
    owner, done = {k: {} for k in KINDS}, []
    def registered(): return {k: set(r) for k, r in regs.items()}
    def visit(mod):
        if mod in done: return
        done.append(mod)
        for d in deps(mod): visit(d)
        before = registered()
        importlib.import_module(mod)
        for k, names in registered().items():
            for n in names - before.get(k, set()): owner[k][n] = mod
    for m in modules(): visit(m)
    assert set(regs) == set(KINDS), f'catalogued registries {sorted(regs)} are not the catalog\'s kinds {KINDS}'
    return {k: {n: [owner[k][n], describe(regs[k][n])] for n in sorted(regs[k])} for k in KINDS}

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
