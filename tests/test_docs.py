"The offline docs build (tools/build_docs.py): every notebook gets a page with its API docs and stored outputs, nothing external."
import base64, html, json, re, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT/'tools'/'build_docs.py'
sys.path.insert(0, str(ROOT/'tools'))
from build_docs import find_notebooks, page_name  # noqa: E402

NBS = ROOT/'nbs'

def build(out, *args, check=True):
    r = subprocess.run([sys.executable, str(BUILD), '--out', str(out), *args], capture_output=True, text=True, timeout=900)
    if check: assert r.returncode == 0, r.stdout + r.stderr
    return r

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site')
    r = build(out)
    return out, r.stdout

def pages(out): return sorted(out.rglob('*.html'))

def test_every_notebook_has_a_page(site):
    out, stdout = site
    nbs = find_notebooks(NBS)
    assert (out/'index.html').exists() and (out/'core.html').exists()
    for nb in nbs: assert (out/page_name(nb, NBS)).is_file(), nb
    assert f'{len(nbs)} pages built' in stdout
    assert len(pages(out)) == len(nbs)

def test_sidebar_lists_every_page_by_title(site):
    out, _ = site
    idx = (out/'index.html').read_text()
    for nb in find_notebooks(NBS): assert f'href="{page_name(nb, NBS)}"' in idx, nb
    assert '<h1 class="title">Core</h1>' in (out/'core.html').read_text()

def test_show_doc_rendered_as_html(site):
    core = (site[0]/'core.html').read_text()
    assert '<h3 id="seed_everything">' in core               # show_doc heading, with Quarto's anchor
    assert '<span class="nf">seed_everything</span>' in core  # the signature, highlighted
    assert '### seed_everything' not in core and '```' not in core
    assert 'href="core.html#seed_everything"' in core         # backtick doclink, local
    assert 'class="pandoc-link"' in core and '{target=' not in core
    assert '#| export' not in core and 'default_exp' not in core  # nbdev removed exported/hidden cells

def test_no_external_css_or_js(site):
    out, _ = site
    ext = re.compile(r'<(?:link|script|img|iframe)\b[^>]*\b(?:href|src)="(?:https?:)?//', re.I)
    for p in pages(out):
        text = p.read_text()
        assert not ext.search(text), p
        assert 'mathjax' not in text.lower() and '@import' not in text, p
    assert not re.search(r'url\(\s*["\']?(?:https?:)?//|@import', (out/'style.css').read_text())

def _stored_outputs(nb_path):
    "Text and PNG outputs of plain cells (no directives) in a notebook: the docs must show them as they are."
    texts, pngs = [], 0
    for c in json.loads(nb_path.read_text())['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or re.search(r'^\s*#\s*\|', src, re.M): continue
        for o in c.get('outputs', []):
            if 'application/vnd.jupyter.widget-view+json' in o.get('data', {}): continue  # widgets need JS: dropped
            t = ''.join(o.get('text', '') or o.get('data', {}).get('text/plain', ''))
            t = re.sub(r'\x1b\[[0-9;]*[A-Za-z]|\r', '', t)  # terminal control codes are not shown
            if 'image/png' in o.get('data', {}): pngs += 1
            elif t.strip() and 'text/html' not in o.get('data', {}): texts.append(t.strip().splitlines()[0])
    return texts, pngs

def test_stored_outputs_shown(site):
    out, _ = site
    n = 0
    for nb in find_notebooks(NBS):
        texts, pngs = _stored_outputs(nb)
        page = html.unescape((out/page_name(nb, NBS)).read_text())
        for t in texts: assert t in page, (nb, t)
        assert page.count('src="data:image/png;base64,') >= pngs, nb
        n += len(texts) + pngs
    assert n > 0, 'no notebook has a stored output to check'

# ---- the builder's own rules, on a small made-up project (independent of what nbs/ holds today)

PNG = base64.b64encode(bytes.fromhex(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082')).decode()

def _nb(cells):
    def cell(kind, src, outputs=()):
        c = dict(cell_type=kind, id=f'c{abs(hash(src)) % 10**8}', metadata={}, source=src)
        if kind == 'code': c.update(execution_count=None, outputs=list(outputs))
        return c
    return dict(nbformat=4, nbformat_minor=5, metadata=dict(kernelspec=dict(name='python3', display_name='Python 3', language='python')),
                cells=[cell(*c) for c in cells])

def _stream(t): return dict(output_type='stream', name='stdout', text=t)

@pytest.fixture
def project(tmp_path):
    (tmp_path/'pyproject.toml').write_text('[project]\nname = "demo"\nversion = "0.0.1"\n\n[tool.nbdev]\n'
                                           'lib_path = "demo"\nnbs_path = "nbs"\ndoc_path = "_docs"\njupyter_hooks = false\n')
    nbs = tmp_path/'nbs'; (nbs/'tutorials').mkdir(parents=True)
    (nbs/'index.ipynb').write_text(json.dumps(_nb([('markdown', '# demo\n\n> The landing page.')])))
    (nbs/'05_mix.ipynb').write_text(json.dumps(_nb([
        ('code', '#| default_exp mix'),
        ('markdown', '# Mixing things\n\n> One line about *mixing*.'),
        ('markdown', 'See [the tutorial](tutorials/01_start.ipynb).\n\n::: {.callout-note}\nA **note**.\n:::'),
        ('code', '#| export\ndef mix(a, b, lam:float=0.5):\n    "Mix `a` and `b`."\n    return lam*a + (1-lam)*b'),
        ('code', 'print(mix(1, 3))', [_stream('2.0\n')]),
        ('code', '#| echo: false\nSECRET_ECHO = 1', [_stream('echo-off output\n')]),
        ('code', '#| output: false\nshown_source = 1', [_stream('HIDDEN OUTPUT\n')]),
        ('code', '#| hide\nHIDDEN_CELL = 1', [_stream('HIDDEN CELL OUTPUT\n')]),
        ('code', 'fig', [dict(output_type='display_data', metadata={}, data={'image/png': PNG, 'text/plain': '<Figure>'})]),
    ])))
    (nbs/'tutorials'/'01_start.ipynb').write_text(json.dumps(_nb([('markdown', '# Start here'),  # nbdev drops the whole H1 cell
                                                                ('markdown', 'Back to [mixing](../05_mix.ipynb#mixing-things).')])))
    return tmp_path

def test_directives_links_and_outputs(project, tmp_path):
    out = tmp_path/'site'
    r = build(out, '--nbs', str(project/'nbs'))
    assert '3 pages built' in r.stdout
    mix = (out/'mix.html').read_text()
    assert '<h1 class="title">Mixing things</h1>' in mix and 'One line about <em>mixing</em>' in mix
    assert '<h3 id="mix">' in mix and '<span class="nf">mix</span>' in mix  # show_doc of the export
    assert '2.0' in mix and 'echo-off output' in mix and 'shown_source' in mix
    for gone in ('SECRET_ECHO', 'HIDDEN OUTPUT', 'HIDDEN_CELL', 'HIDDEN CELL OUTPUT', '#|'): assert gone not in mix, gone
    assert f'src="data:image/png;base64,{PNG}"' in mix
    assert 'href="tutorials/start.html"' in mix
    assert re.search(r'<div class="callout-note">\s*<p>A <strong>note</strong>.</p>\s*</div>', mix)
    tut = (out/'tutorials'/'start.html').read_text()
    assert 'href="../mix.html#mixing-things"' in tut and 'href="../style.css"' in tut
    nav = re.findall(r'<li><a href="([^"]+)"', tut)
    assert nav == ['../index.html', '../mix.html', '../tutorials/start.html']

def test_failing_notebook_fails_the_build(project, tmp_path):
    (project/'nbs'/'07_bad.ipynb').write_text(json.dumps(_nb([
        ('code', '#| default_exp bad'), ('markdown', '# Bad'), ('code', '#| export\nraise RuntimeError("broken export")')])))
    r = build(tmp_path/'site', '--nbs', str(project/'nbs'), check=False)
    assert r.returncode != 0
    assert '07_bad.ipynb' in r.stderr and 'broken export' in r.stderr
