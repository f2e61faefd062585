"The offline docs build (tools/build_docs.py): every notebook gets a page with its API docs and stored outputs, nothing external."
import ast, base64, html, json, re, shutil, subprocess, sys
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT/'tools'/'build_docs.py'
sys.path.insert(0, str(ROOT/'tools'))
from build_docs import WIDGET_NOTE, find_notebooks, page_name, section  # noqa: E402

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

def sidebar(page_html):
    "The sidebar as [(section, [href, ...]), ...]"
    nav = page_html.split('<nav class="sidebar">')[1].split('</nav>')[0]
    parts = re.split(r'<div class="nav-section">([^<]*)</div>', nav)
    return [(sec, re.findall(r'<li><a href="([^"]+)"', links)) for sec, links in zip([''] + parts[1::2], parts[0::2])]

def test_sidebar_lists_every_page_by_title(site):
    out, _ = site
    idx = (out/'index.html').read_text()
    nbs = find_notebooks(NBS)
    want = {}
    for nb in nbs: want.setdefault(section(nb, NBS), []).append(page_name(nb, NBS))
    assert sidebar(idx) == list(want.items())  # Library, then Experiments, then Tutorials (where they exist), in number order
    assert [sec for sec, _ in sidebar(idx)][:2] == ['', 'Library']
    numbered = [nb.name for nb in NBS.glob('[0-9]*.ipynb')]
    assert [nb.name for nb in nbs if section(nb, NBS) == 'Library'] == sorted(numbered, key=lambda n: int(n.split('_')[0]))
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
        assert not re.search(r'mathjax|katex|cdn\.|polyfill', text, re.I) and '@import' not in text, p
        for src in re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', text): assert (p.parent/src).is_file(), (p, src)  # shipped in the site
    assert not re.search(r'url\(\s*["\']?(?:https?:)?//|@import', (out/'style.css').read_text())
    assert not re.search(r'https?:|fetch\(|XMLHttpRequest|import\(', (out/'search.js').read_text())

def _visible_text(page_html):
    "A page's text outside code, as a reader sees it"
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(page_html, 'html.parser')
    for el in soup.select('pre, code, script, style, .input_area'): el.decompose()
    return soup.get_text()

def _markdown(nb_path):
    return '\n'.join(''.join(c['source']) for c in json.loads(nb_path.read_text())['cells'] if c['cell_type'] == 'markdown')

def test_maths_as_mathml(site):
    out, _ = site
    n = 0
    for nb in find_notebooks(NBS):
        page = (out/page_name(nb, NBS)).read_text()
        md = _markdown(nb)
        if re.search(r'\$\\[A-Za-z]|\$\$', md): n += 1; assert '<math' in page, nb  # TeX in the notebook: MathML on the page
        text = _visible_text(page)
        assert not re.search(r'\$\\[A-Za-z]|\$\$|\\(?:frac|bar|sqrt|lambda)\b', text), (nb, re.search(r'.{30}\$\\.{30}', text, re.S))
        for var in re.findall(r'`(\$[A-Z_]+)', md): assert f'<code>{var}' in page, (nb, var)  # shell variables left alone
    assert n > 0, 'no notebook has maths to check'

def test_widgets_shown_as_still_or_note(site):
    out, _ = site
    for nb in find_notebooks(NBS):
        cells = [c for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code' and not re.search(r'^\s*#\s*\|', ''.join(c['source']), re.M)
                 and any('application/vnd.jupyter.widget-view+json' in o.get('data', {}) for o in c.get('outputs', []))]
        page = (out/page_name(nb, NBS)).read_text()
        assert page.count(WIDGET_NOTE) >= len(cells), nb
        assert 'widget-view+json' not in page and 'interactive(children=' not in page, nb

def _index(out):
    text = (out/'search_index.js').read_text(encoding='utf-8')
    prefix = 'window.VISLAB_SEARCH = '
    assert text.startswith(prefix)
    return json.loads(text[len(prefix):].rstrip().rstrip(';'))

def _search(index, query):
    "What docs/search.js matches: the entries holding every term in their page title, section heading or text"
    terms = query.lower().split()
    return [e for e in index if all(t in f"{e['title']} {e['section']} {e['text']}".lower() for t in terms)]

def test_search_index_covers_every_page(site):
    out, _ = site
    index = _index(out)
    for nb in find_notebooks(NBS):
        page = page_name(nb, NBS)
        html_ = (out/page).read_text()
        entries = [e for e in index if e['page'] == page]
        assert entries and entries[0]['id'] == '', page  # the page itself, then its sections
        title = re.search(r'<h1 class="title">(.*?)</h1>', html_)[1]
        assert all(e['title'] == html.unescape(re.sub(r'<[^>]+>', '', title)) for e in entries), page
        for e in entries[1:]: assert f'id="{e["id"]}"' in html_, (page, e['id'])
        # a long word of the notebook's own prose finds the page
        md = re.sub(r'`[^`]*`|\$[^$]*\$|\]\([^)]*\)|<[^>]*>|https?://\S+', ' ', _markdown(nb))
        words = sorted(set(re.findall(r'[A-Za-z]{7,}', md)), key=lambda w: (-len(w), w))[:3]
        for w in words: assert page in {e['page'] for e in _search(index, w)}, (page, w)

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

_EXPORT = {'export', 'exports', 'exporti'}

def mixed_import_cells(nb: dict) -> list[str]:
    "Ids of the non-export code cells that hold a top-level import beside other statements: nbdev runs any cell that imports, whole, to build the docs."
    out = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or {m[1] for m in re.finditer(r'^\s*#\s*\|\s*(\w+)', src, re.M)} & _EXPORT: continue
        code = '\n'.join('' if re.match(r'\s*[%!]', line) else line for line in src.splitlines())  # IPython magics and shell lines
        is_import = [isinstance(s, (ast.Import, ast.ImportFrom)) for s in ast.parse(code).body]
        if any(is_import) and not all(is_import): out.append(c['id'])
    return out

def test_mixed_import_cells_found():
    nb = _nb([('code', '#| hide\nimport os\nfrom pathlib import Path'), ('code', '#| export\nimport re\nX = 1'),
              ('code', 'import json\nprint(json.dumps(1))'), ('code', '#| hide\nimport warnings\nwarnings.simplefilter("ignore")'),
              ('code', 'try: import open_clip\nexcept ImportError: open_clip = None'), ('code', '%matplotlib inline\nimport numpy'),
              ('code', 'def f():\n    import os\n    return os.sep'), ('markdown', 'import this')])
    assert mixed_import_cells(nb) == [nb['cells'][i]['id'] for i in (2, 3)]

@pytest.mark.parametrize('nb', sorted(p for p in NBS.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts), ids=lambda p: str(p.relative_to(NBS)))
def test_imports_in_cells_of_their_own(nb):
    "Every notebook keeps imports out of cells with other code (export cells aside), as its conventions ask."
    bad = mixed_import_cells(json.loads(nb.read_text()))
    assert not bad, f"{nb.relative_to(ROOT)}: cells {bad} mix imports with other code; give the imports cells of their own"

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
def _png(): return dict(output_type='display_data', metadata={}, data={'image/png': PNG, 'text/plain': '<Figure>'})
def _widget(): return dict(output_type='display_data', metadata={}, data={
    'application/vnd.jupyter.widget-view+json': dict(model_id='0123abcd', version_major=2, version_minor=0), 'text/plain': 'interactive(children=(...))'})

def make_project(root):
    (root/'pyproject.toml').write_text('[project]\nname = "demo"\nversion = "0.0.1"\n\n[tool.nbdev]\n'
                                       'lib_path = "demo"\nnbs_path = "nbs"\ndoc_path = "_docs"\njupyter_hooks = false\n')
    nbs = root/'nbs'
    for d in ('tutorials', 'experiments'): (nbs/d).mkdir(parents=True)
    write = lambda name, cells: (nbs/name).write_text(json.dumps(_nb(cells)))
    write('index.ipynb', [('markdown', '# demo\n\n> The landing page.')])
    write('05_mix.ipynb', [
        ('code', '#| default_exp train.mix'),
        ('markdown', '# Mixing things\n\n> One line about *mixing*.'),
        ('markdown', 'See [the tutorial](tutorials/01_start.ipynb).\n\n::: {.callout-note}\nA **note**.\n:::'),
        ('code', '#| export\ndef mix(a, b, lam:float=0.5):\n    "Mix `a` and `b` into $\\lambda a + (1-\\lambda) b$."\n    return lam*a + (1-lam)*b'),
        ('markdown', '## Maths and money\n\nThe mix $\\bar x = \\lambda x_a + (1-\\lambda) x_b$ with $\\lambda \\sim \\mathrm{Beta}(\\alpha, \\alpha)$:\n\n'
                     '$$\\mathrm{CE}(p, t) = -\\sum_c t_c \\log p_c$$\n\n'
                     'It costs $5 and $10. Set `$VISLAB_DATA`, or $VISLAB_HOME, or $HOME and $PATH; a literal \\$x\\$ too.'),
        ('code', 'print(mix(1, 3))', [_stream('2.0\n')]),
        ('code', '#| echo: false\nSECRET_ECHO = 1', [_stream('echo-off output\n')]),
        ('code', '#| output: false\nshown_source = 1', [_stream('HIDDEN OUTPUT\n')]),
        ('code', '#| hide\nHIDDEN_CELL = 1', [_stream('HIDDEN CELL OUTPUT\n')]),
        ('code', 'fig', [_png()]),
        ('code', 'playground_with_still()', [_png(), _widget()]),
        ('code', 'playground_alone()', [_widget()]),
    ])
    write('10_later.ipynb', [('markdown', '# Later `on`\n\n> Number ten.')])  # titles are markdown too
    write('9_early.ipynb', [('markdown', '# Early\n\n> Number nine, before ten.')])
    write('tutorials/01_start.ipynb', [('markdown', '# Start here'),  # nbdev drops the whole H1 cell
                                       ('markdown', 'Back to [mixing](../05_mix.ipynb#mixing-things).\n\n## Flowers\n\nA zygomorphic flower.')])
    write('experiments/01_study.ipynb', [('markdown', '# A study\n\n> Does it hold?'), ('markdown', '## Verdict\n\nIt holds.')])
    return root

@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    "The made-up project, built once: (its root, the site, the build's output)"
    root = make_project(tmp_path_factory.mktemp('demo'))
    out = root/'site'
    return root, out, build(out, '--nbs', str(root/'nbs'))

def test_directives_links_and_outputs(demo):
    _, out, r = demo
    assert '6 pages built' in r.stdout
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

def test_sidebar_sections_in_number_order(demo):
    _, out, _ = demo
    want = [('', ['index.html']), ('Library', ['mix.html', 'early.html', 'later.html']),
            ('Experiments', ['experiments/study.html']), ('Tutorials', ['tutorials/start.html'])]
    assert sidebar((out/'index.html').read_text()) == want
    assert sidebar((out/'tutorials'/'start.html').read_text()) == [(sec, ['../' + p for p in ps]) for sec, ps in want]
    later = (out/'later.html').read_text()
    assert '<title>Later on – demo</title>' in later and '<h1 class="title">Later <code>on</code></h1>' in later
    assert '>Later <code>on</code></a></li>' in later and '`' not in later

def test_maths_to_mathml_and_dollars_left_alone(demo):
    _, out, _ = demo
    mix = (out/'mix.html').read_text()
    text = _visible_text(mix)
    assert mix.count('<math') == 4 and len(re.findall(r'<math[^>]*display="block"', mix)) == 1  # 2 inline + 1 display in markdown, 1 in the docstring
    assert '<em>Mix <code>a</code> and <code>b</code> into <math' in mix  # the docstring's, in show_doc's output
    assert re.search(r'<munder><mo>(∑|&#x02211;)</mo><mi>c</mi></munder>', mix) and re.search(r'<mi>(λ|&#x003BB;)</mi>', mix)  # as MathML
    assert 'It costs $5 and $10.' in text and '$VISLAB_HOME, or $HOME and $PATH; a literal $x$ too.' in text
    assert '<code>$VISLAB_DATA</code>' in mix
    assert not re.search(r'\$\\|\\lambda|\\bar|\\sum', text)

def test_widget_outputs_become_still_or_note(demo):
    _, out, _ = demo
    mix = (out/'mix.html').read_text()
    still, alone = mix.split('playground_with_still')[1].split('playground_alone')
    assert f'src="data:image/png;base64,{PNG}"' in still and 'still of an interactive widget: run the notebook to use it' in still
    assert 'An interactive widget: run the notebook to use it.' in alone and 'data:image/png' not in alone
    assert 'interactive(children' not in mix and 'widget-view' not in mix

def test_search_index(demo):
    _, out, _ = demo
    index = _index(out)
    assert {e['page'] for e in index} == {'index.html', 'mix.html', 'early.html', 'later.html', 'experiments/study.html', 'tutorials/start.html'}
    hits = _search(index, 'zygomorphic')
    assert [(e['page'], e['id'], e['section'], e['title']) for e in hits] == [('tutorials/start.html', 'flowers', 'Flowers', 'Start here')]
    assert {(e['page'], e['id']) for e in _search(index, 'mix')} >= {('mix.html', ''), ('mix.html', 'mix'), ('mix.html', 'maths-and-money')}
    assert _search(index, 'does hold')[0]['page'] == 'experiments/study.html'  # terms from the description
    assert not _search(index, 'SECRET_ECHO') and not _search(index, 'zygomorphic nowhere')

@pytest.mark.skipif(not shutil.which('node'), reason='node is not installed')
def test_search_js_ranks_hits(demo):
    "docs/search.js's own search, under node, over the built index"
    _, out, _ = demo
    js = ("global.window = {}; require(process.argv[1]); const s = require(process.argv[2]);"
          "console.log(JSON.stringify(['zygomorphic', 'flower', 'mix', 'nothing-like-this'].map(q => s.search(window.VISLAB_SEARCH, q).map(e => e.page + '#' + e.id))));")
    r = subprocess.run(['node', '-e', js, str(out/'search_index.js'), str(out/'search.js')], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    zyg, flower, mix, none = json.loads(r.stdout)
    assert zyg == ['tutorials/start.html#flowers'] and flower[0] == 'tutorials/start.html#flowers' and none == []
    assert mix[0] == 'mix.html#mix'  # a heading match ranks first

CHROMIUM = next((c for c in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(c)), None)

@pytest.mark.skipif(CHROMIUM is None, reason='no headless Chromium')
def test_search_box_in_a_browser(demo):
    "The search box, from file://, in headless Chromium: `?q=` runs a search and lists page and section links"
    _, out, _ = demo
    url = (out/'experiments'/'study.html').as_uri() + '?q=' + quote('zygomorphic flower')
    r = subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=5000', '--dump-dom', url],
                       capture_output=True, text=True, timeout=120)
    panel = r.stdout.split('id="search-results"')[1].split('</div>')[0]
    assert 'hidden' not in panel.split('>')[0], panel
    assert 'href="../tutorials/start.html#flowers"' in panel and '<mark>zygomorphic</mark>' in panel

def test_failing_notebook_fails_the_build(tmp_path):
    project = make_project(tmp_path)
    (project/'nbs'/'07_bad.ipynb').write_text(json.dumps(_nb([
        ('code', '#| default_exp bad'), ('markdown', '# Bad'), ('code', '#| export\nraise RuntimeError("broken export")')])))
    r = build(tmp_path/'site', '--nbs', str(project/'nbs'), check=False)
    assert r.returncode != 0
    assert '07_bad.ipynb' in r.stderr and 'broken export' in r.stderr
