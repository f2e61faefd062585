"""The built docs site driven in a real browser (headless Chromium through Selenium and the system's chromedriver).

Every page loads from `file://` without console errors and with every image decoded; maths renders as MathML
with real height; typing a technique's name in the search box finds its page and Enter opens it; the sidebar's
links reach every section (library, experiments, course, tutorials). Screenshots of a few pages are kept in
`$VISLAB_ARTIFACTS/screenshots` (default `_artifacts/`) for a person to look at.

The site is `$VISLAB_SITE` where set (tools/test.sh builds `_site` once and points here), else built now.
Without a browser these tests skip, unless `VISLAB_REQUIRE_BROWSER=1` (CI sets it: `.ci/run` installs one).
"""
import os, shutil, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = next((shutil.which(c) for c in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(c)), None)
DRIVER = shutil.which('chromedriver')
try: from selenium import webdriver
except ImportError: webdriver = None
MISSING = [what for what, ok in (('chromium', CHROMIUM), ('chromedriver', DRIVER), ('selenium', webdriver)) if not ok]
if MISSING and os.environ.get('VISLAB_REQUIRE_BROWSER') == '1':
    raise RuntimeError(f"VISLAB_REQUIRE_BROWSER=1 but {', '.join(MISSING)} missing: .ci/run installs them (apt chromium chromium-driver; pip selenium)")
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"no headless browser ({', '.join(MISSING)} missing)")

SHOTS = Path(os.environ.get('VISLAB_ARTIFACTS', ROOT/'_artifacts'))/'screenshots'

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    if os.environ.get('VISLAB_SITE'): return Path(os.environ['VISLAB_SITE']).resolve()
    out = tmp_path_factory.mktemp('site')
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--out', str(out)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return out

@pytest.fixture(scope='module')
def browser():
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1280,900'): opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)   # the system's driver: Selenium Manager downloads nothing
    d.implicitly_wait(0)
    try: yield d
    finally: d.quit()

def open_page(d, path: Path):
    "Load `path`, wait for its scripts, and return the console messages it printed"
    d.get(path.as_uri())
    d.execute_async_script("const done = arguments[0]; if (document.readyState === 'complete') done(); else addEventListener('load', () => done());")
    return d.get_log('browser')

def wait_for(d, js: str, timeout: float = 5.0):
    "The first truthy value of `js` (a script returning a value) within `timeout` seconds"
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(d, timeout).until(lambda d: d.execute_script(js))

def test_every_page_loads_clean(site, browser):
    "No console errors or warnings, every image decoded (figures and widget stills), a title on every page"
    pages = sorted(site.rglob('*.html'))
    assert len(pages) > 40
    problems = {}
    for p in pages:
        logs = [l['message'] for l in open_page(browser, p) if l['level'] in ('SEVERE', 'WARNING')]
        broken = browser.execute_script("return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt || i.src.slice(0, 60))")
        title = browser.execute_script("const h = document.querySelector('h1'); return h ? h.innerText.trim() : ''")
        if logs or broken or not title: problems[str(p.relative_to(site))] = dict(console=logs, broken_images=broken, title=title)
    assert not problems, problems

def test_figures_and_widget_stills_show(site, browser):
    "Pages with figures show them at a real size; a widget's still sits above its note"
    open_page(browser, site/'featvis.html')
    sizes = browser.execute_script("return Array.from(document.images).map(i => [i.naturalWidth, i.getBoundingClientRect().height])")
    assert len(sizes) >= 5 and all(w > 20 and h > 20 for w, h in sizes), sizes
    for page in ('mix.html', 'quant.html'):
        open_page(browser, site/page)
        stills = browser.execute_script("""return Array.from(document.querySelectorAll('.widget-note')).map(n => {
            const cell = n.closest('.cell'), img = cell && cell.querySelector('img');
            return img ? [img.naturalWidth, img.getBoundingClientRect().height] : null; })""")
        assert stills and all(s and s[0] > 20 and s[1] > 20 for s in stills), (page, stills)

def test_maths_renders(site, browser):
    "Maths is MathML the browser lays out: every formula has a box, a fraction stands taller than a letter, no raw TeX"
    open_page(browser, site/'cam.html')
    boxes = browser.execute_script("return Array.from(document.querySelectorAll('math')).map(m => { const r = m.getBoundingClientRect(); return [r.width, r.height]; })")
    assert len(boxes) > 10 and all(w > 0 and h > 0 for w, h in boxes), boxes
    frac, letter = browser.execute_script("""const f = document.querySelector('math mfrac'), i = document.querySelector('math mi');
        return [f ? f.getBoundingClientRect().height : 0, i.getBoundingClientRect().height];""")
    assert frac > 1.3 * letter > 0, (frac, letter)
    text = browser.execute_script("return document.querySelector('main, body').innerText")
    assert '\\frac' not in text and '$$' not in text

@pytest.mark.parametrize('query,page', [('Grad-CAM', 'cam.html'), ('knowledge distillation', 'distill.html'), ('early exits', 'exits.html')])
def test_search_finds_a_technique_by_name(site, browser, query, page):
    "Typing a technique's name lists its page among the first hits; Enter opens the first hit"
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    open_page(browser, site/'experiments'/'exits_cifar.html')  # from a page one folder down: links must climb out
    box = browser.find_element(By.ID, 'search-input')
    box.send_keys(query)
    hrefs = wait_for(browser, "const p = document.getElementById('search-results'); return !p.hidden && Array.from(p.querySelectorAll('a')).map(a => a.getAttribute('href'))")
    assert any(h.split('#')[0] == f'../{page}' for h in hrefs[:5]), hrefs[:10]
    box.send_keys(Keys.ENTER)
    wait_for(browser, "return document.readyState === 'complete' && location.pathname.indexOf('/experiments/') < 0")
    assert browser.current_url.split('#')[0].endswith('/' + hrefs[0].split('#')[0].removeprefix('../'))
    assert not [l for l in browser.get_log('browser') if l['level'] == 'SEVERE']

def test_sidebar_reaches_every_section(site, browser):
    "Every sidebar link opens a page that marks itself current; the library and experiments sections (and course, tutorials where built) are there"
    from selenium.webdriver.common.by import By
    open_page(browser, site/'index.html')
    sections = browser.execute_script("return Array.from(document.querySelectorAll('nav.sidebar .nav-section')).map(s => s.innerText.trim().toLowerCase())")
    assert {'library', 'experiments'} <= set(sections), sections
    if (site/'course').is_dir(): assert 'course' in sections, sections
    hrefs = list(dict.fromkeys(a.get_attribute('href') for a in browser.find_elements(By.CSS_SELECTOR, 'nav.sidebar a')))
    assert set(hrefs) == {p.as_uri() for p in site.rglob('*.html')}, hrefs
    for href in hrefs:
        browser.get(href)
        current = browser.execute_script("const a = document.querySelector('nav.sidebar a[aria-current=page]'); return a && a.href")
        assert current == href, (href, current)

def test_screenshots_kept(site, browser):
    "A few pages as a person sees them, kept for review (CI leaves them in `_artifacts/screenshots`)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    wanted = ['index.html', 'cam.html', 'featvis.html', 'experiments/exits_cifar.html']
    wanted += [str(p.relative_to(site)) for p in sorted((site/'course').glob('*.html'))[:2]]
    for page in wanted:
        open_page(browser, site/page)
        shot = SHOTS/(page.replace('/', '_').removesuffix('.html') + '.png')
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000, shot
