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

Pages use nbdev's file names (`nbs/00_core.ipynb` -> `core.html`). Nothing is fetched: no CDN,
no MathJax (TeX stays as text), no widget JavaScript (widget outputs are dropped).
"""
import argparse, base64, mimetypes, os, re, shutil, sys, time, traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT/'docs'
MARKER = '.vislab-docs'  # marks an output folder this script may wipe

# ---------------------------------------------------------------- which notebooks, which pages

def find_notebooks(nbs: Path):
    "Notebooks in `nbs` and its sub-folders (nbdev's rule: names starting with `_` or `.` skipped), in reading order."
    nbs_ = [p for p in nbs.rglob('*.ipynb')
            if not any(part[0] in '_.' for part in p.relative_to(nbs).parts)]
    return sorted(nbs_, key=lambda p: (len(p.relative_to(nbs).parts) > 1, str(p.parent), p.name != 'index.ipynb', p.name))

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

def apply_quarto_options(cell):
    "Do to a processed code cell what Quarto does with its options; returns None to drop the cell."
    opts, cell.source = _split_options(cell.source)
    is_false = lambda k: opts.get(k, '').lower() == 'false'
    if is_false('include'): return None
    outs = []
    for o in cell.get('outputs', []):
        if o.output_type == 'stream':
            if not o.text.strip() or (o.name == 'stderr' and is_false('warning')): continue
        if o.output_type in ('display_data', 'execute_result') and _WIDGET in o.data: continue
        outs.append(o)
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
        exp = HTMLExporter(template_name='basic', template_file=str(DOCS/'cells.html.j2'),
                           exclude_input_prompt=True, exclude_output_prompt=True)
        body, _ = exp.from_notebook_node(node, resources={'metadata': {'path': str(nb_path.parent)}})
        page = page_name(nb_path, nbs)
        root = '../' * page.count('/')
        cfg = get_config()
        doc_url = f"{cfg.get('doc_host', '').rstrip('/')}{cfg.get('doc_baseurl', '').rstrip('/')}"
        desc = fm.get('description', '')
        from nbconvert.filters import markdown2html
        desc_html = re.sub(r'^<p>|</p>\s*$', '', markdown2html(desc).strip()) if desc else ''
        return dict(page=page, root=root, title=str(fm.get('title') or nb_path.stem), description=desc_html,
                    body=embed_local_images(fix_html(body, root, doc_url), nb_path.parent))
    except Exception as e:
        return dict(error=f'{nb_path}: {type(e).__name__}: {e}\n{traceback.format_exc()}')

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
    nav = {}  # section -> pages
    for p in pages: nav.setdefault(p['page'].rpartition('/')[0].replace('_', ' ').capitalize(), []).append(p)
    if out.exists():
        if any(out.iterdir()) and not (out/MARKER).exists(): sys.exit(f'build_docs: {out} exists and was not made by this script; not overwriting it')
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out/MARKER).write_text('made by tools/build_docs.py; deleted and rebuilt on each run\n')
    write_css(out)
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
