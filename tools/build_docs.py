"""Build vislab's documentation as a static HTML site, fully offline.

    python tools/build_docs.py             # -> _site/index.html, _site/core.html, ...
    python tools/build_docs.py --out DIR

nbdev's own site (`nbdev-docs`) needs Quarto, which cannot be installed without the network (PyPI's
`quarto-cli` is an sdist that downloads the binary at install time). No pip-installable tool renders
nbdev notebooks: mkdocs-jupyter, nbsphinx, myst-nb and jupyter-book render stored outputs, but know
nothing of nbdev's processing (`show_doc` for exported names, `#| hide`, `#| exports`, doclinks), so
they would need this script's nbdev half anyway and add a site generator for the other half. Hence
this hand-written builder, made of two halves that each reuse an existing tool:

1. nbdev's own processors (`FilterDefaults`, exactly what `nbdev-proc-nbs` runs for Quarto) turn each
   notebook into the processed notebook Quarto would get: hidden and exported cells removed,
   `show_doc` cells added and executed (only those, with the export cells and imports they need;
   every other cell keeps its stored outputs), the H1 and `>` summary moved to frontmatter,
   backtick doclinks added.
2. The Quarto cell options nbdev leaves in the sources (`echo`, `output`, `include`, `warning`,
   `code-fold`) are applied as Quarto would, pandoc-only markdown (`{target=...}` link attributes,
   `:::` divs) is turned into HTML, and nbconvert's HTMLExporter (mistune markdown, no pandoc)
   renders the cells with docs/cells.html.j2; docs/page.html wraps them with the sidebar and
   docs/style.css. Links to notebooks and nbdev doclinks are rewritten to the local .html pages.

Pages use nbdev's file names (`nbs/00_core.ipynb` -> `core.html`), listed in the sidebar by section:
the landing page, Library (`nbs/NN_*.ipynb`), Course (`nbs/course/`), Experiments (`nbs/experiments/`), Tutorials
(`nbs/tutorials/`), each in number order. Nothing is fetched, at build time or when reading:
- maths (`$...$`, `$$...$$` in markdown and docstrings) is turned into MathML here (latex2mathml),
  with pandoc's rule for what counts as maths, so `$VISLAB_DATA` or `$5 and $10` stay text;
- widget outputs need a live kernel: a cell's own PNG output stands in for its widget, or a note;
- search is docs/search.js over `search_index.js`, an index of every page's sections written here
  (a script, not a JSON file fetched, so that it works from file:// too).
"""
import argparse, base64, html, json, mimetypes, os, re, shutil, sys, time, traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT/'docs'
MARKER = '.vislab-docs'  # marks an output folder this script may wipe

# ---------------------------------------------------------------- which notebooks, which pages

SECTIONS = {'.': 'Library', 'course': 'Course', 'experiments': 'Experiments', 'tutorials': 'Tutorials'}  # sidebar order; other folders follow

def section(nb: Path, nbs: Path) -> str:
    "The sidebar section of a notebook: '' for the landing page, else by folder (`SECTIONS`, or the folder's name)"
    rel = nb.relative_to(nbs)
    if rel == Path('index.ipynb'): return ''
    folder = rel.parts[0] if len(rel.parts) > 1 else '.'
    return SECTIONS.get(folder, folder.replace('_', ' ').capitalize())

def find_notebooks(nbs: Path):
    "Notebooks in `nbs` and its sub-folders (nbdev's rule: names starting with `_` or `.` skipped), in reading order."
    nbs_ = [p for p in nbs.rglob('*.ipynb')
            if not any(part[0] in '_.' for part in p.relative_to(nbs).parts)]
    order = ['', *SECTIONS.values()]
    def key(p):
        sec, num = section(p, nbs), [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', p.name)]  # 9_x before 10_x
        return (order.index(sec) if sec in order else len(order), sec, str(p.parent), p.name != 'index.ipynb', num)
    return sorted(nbs_, key=key)

def page_name(nb: Path, nbs: Path) -> str:
    "nbdev's page name, relative to the site root: `tutorials/01_x.ipynb` -> `tutorials/x.html`"
    from nbdev.config import nbpath2html
    return nbpath2html(nb.relative_to(nbs)).as_posix()

# ---------------------------------------------------------------- Quarto's cell options and pandoc markdown

_re_opt = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')

def _split_options(src: str):
    "Leading `#| key: value` lines of `src` (nbdev puts them after any `%%magic` line) as a dict, and the source without them."
    lines, opts, keep = src.splitlines(True), {}, []
    while lines and ((m := _re_opt.match(lines[0])) or re.match(r'\s*%%\w+', lines[0])):
        if m: opts[m[1]] = m[2].strip('"\'')
        else: keep.append(lines[0])
        lines.pop(0)
    return opts, ''.join(keep + lines).strip('\n')

_WIDGET = 'application/vnd.jupyter.widget-view+json'
WIDGET_NOTE = 'interactive widget: run the notebook to use it'

def widget_note(still: bool):
    "What a page shows in place of a widget (which needs a live kernel): a note, under the cell's own still image if it has one"
    text = f'The image above is a still of an {WIDGET_NOTE}.' if still else f'An {WIDGET_NOTE}.'
    from nbformat.v4 import new_output
    return new_output('display_data', {'text/html': f'<p class="widget-note">{text}</p>'})

def apply_quarto_options(cell):
    "Do to a processed code cell what Quarto does with its options; returns None to drop the cell."
    opts, cell.source = _split_options(cell.source)
    is_false = lambda k: opts.get(k, '').lower() == 'false'
    if is_false('include'): return None
    outs, widget = [], False
    for o in cell.get('outputs', []):
        if o.output_type == 'stream':
            if not o.text.strip() or (o.name == 'stderr' and is_false('warning')): continue
        if o.output_type in ('display_data', 'execute_result') and _WIDGET in o.data: widget = True; continue
        outs.append(o)
    if widget: outs.append(widget_note(still=any('image/png' in o.get('data', {}) for o in outs)))
    if opts.get('output') == 'asis':  # the markdown itself, rendered, as Quarto does
        for o in outs:
            if o.output_type == 'stream': o.output_type, o.data, o.metadata = 'display_data', {'text/markdown': o.pop('text')}, {}
            elif 'text/markdown' in o.get('data', {}): o.data = {'text/markdown': o.data['text/markdown']}
    if is_false('output'): outs = []
    cell.outputs = outs
    if is_false('echo') or not cell.source.strip(): cell.metadata.setdefault('transient', {})['remove_source'] = True
    if opts.get('code-fold', 'false').lower() != 'false':
        cell.metadata.code_fold = opts['code-fold'].lower()
        cell.metadata.code_summary = opts.get('code-summary', 'Code')
    return cell

_re_link_attrs = re.compile(r'(\[[^\]]*\])\(([^)\s]+)\)\{([^}]*)\}')
_re_div_open = re.compile(r'^:::+\s*\{([^}]*)\}\s*$', re.MULTILINE)
_re_div_close = re.compile(r'^:::+\s*$', re.MULTILINE)

def _html_attrs(pandoc_attrs: str) -> str:
    "pandoc attributes `{.cls #id key=\"v\"}` as HTML attributes"
    classes = re.findall(r'(?:^|\s)\.([\w-]+)', pandoc_attrs)
    ids = re.findall(r'(?:^|\s)#([\w-]+)', pandoc_attrs)
    kvs = re.findall(r'([\w-]+)=("[^"]*"|\S+)', pandoc_attrs)
    out = [f'class="{" ".join(classes)}"'] if classes else []
    out += [f'id="{i}"' for i in ids[:1]] + [f'{k}="{v.strip(chr(34))}"' for k, v in kvs]
    return ' '.join(out)

def pandoc_to_html_md(md: str) -> str:
    "Turn the pandoc-only markdown nbdev writes (`[t](u){attrs}`, `::: {.cls}` divs) into markdown with HTML blocks."
    def link(m):  # a link alone on its line (nbdev's `[source](...){...}`) keeps its attributes; inline ones lose them
        if m.string[m.start()-1:m.start()] in ('', '\n') and m.string[m.end():m.end()+1] in ('', '\n'):
            return f'<p class="pandoc-link"><a href="{m[2]}" {_html_attrs(m[3])}>{m[1][1:-1]}</a></p>'
        return f'{m[1]}({m[2]})'
    md = _re_link_attrs.sub(link, md)
    md = _re_div_open.sub(lambda m: f'\n<div {_html_attrs(m[1])}>\n\n', md)  # blank lines: markdown inside
    return _re_div_close.sub('\n\n</div>\n', md)

# nbconvert's own `embed_images` re-parses each raw-HTML piece on its own, which breaks HTML
# that spans markdown blocks (`<div>` ... `</div>`), so images are embedded here instead.
def embed_attachments(md: str, attachments: dict) -> str:
    "Markdown `attachment:name` images as data URIs"
    def uri(m):
        bundle = attachments.get(m[1], {})
        mime = next((k for k in bundle if k.startswith('image/')), None)
        if mime is None: return m[0]
        data = bundle[mime]
        data = ''.join(data) if isinstance(data, list) else data
        if mime == 'image/svg+xml': data = base64.b64encode(data.encode()).decode()
        return f'data:{mime};base64,{data.strip()}'
    return re.sub(r'attachment:([^\s)"\']+)', uri, md)

def embed_local_images(body: str, folder: Path) -> str:
    "`<img src=\"relative/file\">` as data URIs, so pages need no copied files"
    def uri(m):
        f = folder/unquote(m[2])
        if not f.is_file(): return m[0]
        mime = mimetypes.guess_type(f.name)[0] or 'application/octet-stream'
        return f'{m[1]}data:{mime};base64,{base64.b64encode(f.read_bytes()).decode()}"'
    return re.sub(r'(<img\b[^>]*?\bsrc=")(?![a-z][\w+.-]*:|/|#)([^"]+)"', uri, body)

# ---------------------------------------------------------------- maths: TeX -> MathML, here rather than in the reader's browser

from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath, MathInlineParser

class MathInline(MathInlineParser):
    """nbconvert's markdown-with-maths parser, with pandoc's rule for `$...$` (no space just inside either `$`, no digit
    just after the closing one) and no backtick inside: so `$5 and $10`, `$HOME and $PATH`, `` `$VISLAB_DATA` `` stay text"""
    SPECIFICATION = {**MathInlineParser.SPECIFICATION,
                     'inline_math_tex': r'(?<![$\\])\$(?![\s$])(?P<math_inline_tex>[^`]+?)(?<![\s$\\])\$(?!\d)'}

def tex2mathml(tex: str, display=False) -> str:
    from latex2mathml.converter import convert
    try:  # HTML needs no namespace on <math>, and nbconvert's heading anchors would mangle one
        mathml = convert(tex.strip(), display='block' if display else 'inline')
        return mathml.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', f' alttext="{html.escape(" ".join(tex.split()))}"', 1)  # TeX for screen readers
    except Exception as e:  # latex2mathml lacks a command: show the TeX, say so, build on
        print(f'build_docs: cannot turn TeX {tex!r} into MathML ({type(e).__name__}: {e}); shown as code', file=sys.stderr)
        return f'<code class="tex">{html.escape(tex)}</code>'

class MathMLRenderer(IPythonRenderer):
    "nbconvert's markdown renderer, writing MathML where it would leave TeX for MathJax"
    def inline_math(self, body): return tex2mathml(body)
    def block_math(self, body): return tex2mathml(body, display=True)
    def latex_environment(self, name, body): return tex2mathml(f'\\begin{{{name}}}{body}\\end{{{name}}}', display=True)

def markdown2html(md: str) -> str:
    "Markdown to HTML as nbconvert does it (mistune), maths as MathML"
    return MarkdownWithMath(renderer=MathMLRenderer(escape=False), inline=MathInline(hard_wrap=False)).render(md)

# ---------------------------------------------------------------- one notebook -> one page body

def _slug(s: str) -> str:
    "pandoc's (so Quarto's and nbdev's doclinks') heading id: lower case, only [\\w.-], from the first letter"
    s = re.sub(r'[^\w.-]', '', s.replace(' ', '-').lower())
    return re.sub(r'^[^a-z]+', '', s) or 'section'

def fix_html(body: str, root: str, doc_url: str) -> str:
    "Heading ids as Quarto makes them; doclinks and links to notebooks pointing at the local pages."
    ids = {}
    def hid(m):
        ids[m[2]] = new = _slug(m[2])
        return f'<h{m[1]} id="{new}"'
    body = re.sub(r'<h([1-6]) id="([^"]*)"', hid, body)
    body = re.sub(r'href="#([^"]*)"', lambda m: f'href="#{ids.get(m[1], m[1])}"', body)
    if doc_url: body = body.replace(f'href="{doc_url}/', f'href="{root}')
    def nblink(m):
        from nbdev.config import nbpath2html
        return f'href="{m[1]}{nbpath2html(Path(m[2] + ".ipynb")).name}{m[3] or ""}"'
    return re.sub(r'href="((?:\.\.?/|[\w-]+/)*)([^"/#:]+)\.ipynb(#[^"]*)?"', nblink, body)

def build_page(nb_path: str, nbs: str) -> dict:
    "Process one notebook with nbdev and render its cells to HTML (runs in a worker process)."
    try:
        nb_path, nbs = Path(nb_path), Path(nbs)
        os.environ['IN_TEST'] = '1'  # as nbdev-proc-nbs does
        os.environ.setdefault('MPLBACKEND', 'Agg')
        os.chdir(nb_path.parent)
        import nbformat
        from fastcore.nbio import read_nb, nb2dict
        from nbconvert import HTMLExporter
        from nbdev.config import get_config
        from nbdev.processors import FilterDefaults, insert_warning
        nb = read_nb(nb_path)
        FilterDefaults()(nb)  # nbdev's processing for Quarto
        fm = dict(getattr(nb, 'frontmatter_', {}) or {})
        node = nbformat.v4.rwbase.rejoin_lines(nbformat.from_dict(nb2dict(nb)))
        if fm and node.cells and node.cells[0].cell_type == 'raw': node.cells.pop(0)  # the frontmatter cell
        node.metadata.pop('widgets', None)
        cells = []
        for c in node.cells:
            if c.cell_type == 'code': c = apply_quarto_options(c)
            elif c.cell_type == 'markdown':
                if c.source.strip() == insert_warning.content: continue  # meant for nbdev's generated .md files
                c.source = embed_attachments(pandoc_to_html_md(c.source), c.pop('attachments', {}))
            if c is None: continue
            for k in set(c) - {'cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count', 'attachments'}: del c[k]
            c.metadata.pop('execution', None)  # execnb's timings, which nbformat's schema refuses
            for o in c.get('outputs', []):
                if 'text/markdown' in o.get('data', {}): o.data['text/markdown'] = pandoc_to_html_md(o.data['text/markdown'])
            cells.append(c)
        node.cells = cells
        exp = HTMLExporter(template_name='basic', template_file=str(DOCS/'cells.html.j2'), filters={'markdown2html': markdown2html},
                           exclude_input_prompt=True, exclude_output_prompt=True)
        body, _ = exp.from_notebook_node(node, resources={'metadata': {'path': str(nb_path.parent)}})
        page = page_name(nb_path, nbs)
        root = '../' * page.count('/')
        cfg = get_config()
        doc_url = f"{cfg.get('doc_host', '').rstrip('/')}{cfg.get('doc_baseurl', '').rstrip('/')}"
        inline_html = lambda md: re.sub(r'^<p>|</p>\s*$', '', markdown2html(md).strip()) if md else ''  # title, description: markdown
        title_html, desc_html = inline_html(str(fm.get('title') or nb_path.stem)), inline_html(fm.get('description', ''))
        title, body = html.unescape(re.sub(r'<[^>]+>', '', title_html)), fix_html(body, root, doc_url)
        return dict(page=page, root=root, title=title, title_html=title_html, description=desc_html, section=section(nb_path, nbs),
                    search=search_entries(page, title, desc_html, body), body=embed_local_images(body, nb_path.parent))
    except Exception as e:
        return dict(error=f'{nb_path}: {type(e).__name__}: {e}\n{traceback.format_exc()}')

# ---------------------------------------------------------------- the search index

def search_entries(page: str, title: str, description: str, body: str) -> list:
    "One entry per section of a page (the part before its first heading, then each heading with an id): its prose and API docs, not code or outputs"
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(body, 'html.parser')
    for el in soup.select('a.anchor-link, img'): el.decompose()
    text = lambda el: ' '.join(el.get_text().split())
    entries = [dict(page=page, title=title, id='', section=title, text=text(BeautifulSoup(description, 'html.parser')))]
    for region in soup.select('.text_cell_render, .output_markdown'):
        for el in region.find_all(recursive=False):
            if re.fullmatch(r'h[1-6]', el.name) and el.get('id'):
                entries.append(dict(page=page, title=title, id=el['id'], section=text(el), text=''))
            elif t := text(el): entries[-1]['text'] = f"{entries[-1]['text']} {t}".strip()
    return entries

def write_search_index(out: Path, pages: list):
    "The index as a script (`window.VISLAB_SEARCH = [...]`): pages read from file:// may load scripts but not fetch JSON"
    entries = [e for p in pages for e in p['search']]
    (out/'search_index.js').write_text('window.VISLAB_SEARCH = ' + json.dumps(entries, ensure_ascii=False, separators=(',', ':')) + ';\n', encoding='utf-8')
    shutil.copy(DOCS/'search.js', out/'search.js')

# ---------------------------------------------------------------- the site

def write_css(out: Path):
    from pygments.formatters import HtmlFormatter
    css = (DOCS/'style.css').read_text() + '\n/* code highlighting (pygments) */\n' + HtmlFormatter(style='friendly').get_style_defs('.highlight')
    (out/'style.css').write_text(css)

def build(out: Path, nbs: Path, workers: int) -> int:
    from jinja2 import Template
    nb_paths = find_notebooks(nbs)
    if not nb_paths: sys.exit(f'build_docs: no notebooks in {nbs}')
    # Workers run `build_page` from this file imported as a module, not from `__main__`: nbdev's shell
    # takes over `sys.modules['__main__']` in a worker, which would break its next task (as in nbdev's serve_drv).
    sys.path.insert(0, str(Path(__file__).parent))
    import build_docs
    with ProcessPoolExecutor(max(1, min(workers, len(nb_paths))), mp_context=get_context('spawn')) as ex:
        pages = list(ex.map(build_docs.build_page, map(str, nb_paths), [str(nbs)] * len(nb_paths)))
    errors = [p['error'] for p in pages if 'error' in p]
    if errors: sys.exit('build_docs: cannot build the page of\n' + '\n'.join(errors))
    from nbdev.config import get_config
    site = get_config(nbs).get('title', 'vislab')
    nav = {}  # section -> pages, in reading order
    for p in pages: nav.setdefault(p['section'], []).append(p)
    if out.exists():
        if any(out.iterdir()) and not (out/MARKER).exists(): sys.exit(f'build_docs: {out} exists and was not made by this script; not overwriting it')
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out/MARKER).write_text('made by tools/build_docs.py; deleted and rebuilt on each run\n')
    write_css(out)
    write_search_index(out, pages)
    tmpl = Template((DOCS/'page.html').read_text())
    for p in pages:
        dest = out/p['page']
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(tmpl.render(site=site, nav=nav, **p), encoding='utf-8')
    return len(pages)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=str(ROOT/'_site'), help='output folder (default: _site/ in the repo root)')
    ap.add_argument('--nbs', default=None, help="notebook folder (default: nbdev's nbs_path)")
    ap.add_argument('--workers', type=int, default=os.cpu_count() or 1, help='worker processes (default: one per CPU)')
    a = ap.parse_args()
    t0 = time.perf_counter()
    if a.nbs: nbs = Path(a.nbs).resolve()
    else:
        from nbdev.config import get_config
        nbs = get_config(ROOT).path('nbs_path')
    out = Path(a.out).resolve()
    n = build(out, nbs, a.workers)
    print(f'build_docs: {n} pages built in {time.perf_counter() - t0:.1f}s -> {out}')

if __name__ == '__main__': main()
