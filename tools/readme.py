"""Write README.md from nbs/index.ipynb, the landing page of the docs (what `nbdev-readme` does with Quarto).

    python tools/readme.py          # rewrite README.md
    python tools/readme.py --check  # exit 1 if README.md is not what the notebook says"""
import re, sys
from pathlib import Path
from fastcore.nbio import read_nb

ROOT = Path(__file__).resolve().parents[1]

def readme_text(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    "The markdown cells of the index notebook, with links to notebooks (in `nbs/` or its folders) made relative to the repository root."
    md = [c.source for c in read_nb(nb_path).cells if c.cell_type == 'markdown']
    text = '\n\n'.join(s.strip() for s in md) + '\n'
    return re.sub(r'\]\(([\w/]+\.ipynb)\)', r'](nbs/\1)', text)

if __name__ == '__main__':
    new, path = readme_text(), ROOT/'README.md'
    if '--check' in sys.argv:
        if not path.exists() or path.read_text() != new: sys.exit('README.md is out of date: run python tools/readme.py')
    else: path.write_text(new)
