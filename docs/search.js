// vislab docs: the search box in the sidebar (docs/page.html). Plain JavaScript, nothing fetched from elsewhere.
// The index is search_index.js, written by tools/build_docs.py: `window.VISLAB_SEARCH = [{page, title, id, section, text}, ...]`,
// one entry per section of every page. It is a script, loaded on first use, because pages opened from file://
// may load scripts but not fetch JSON. `?q=words` in a page's address runs a search when the page opens.
(function () {
  'use strict';

  function terms(query) { return query.toLowerCase().split(/\s+/).filter(Boolean); }

  function count(text, term) {
    let n = 0;
    for (let i = text.indexOf(term); i >= 0 && n < 5; i = text.indexOf(term, i + term.length)) n++;
    return n;
  }

  // Entries that hold every term somewhere (page title, section heading or text), best first:
  // a term in the section heading counts most, then one in the page title, then each time it is in the text (up to 5).
  function search(index, query, limit) {
    const ts = terms(query), hits = [];
    if (!ts.length) return [];
    for (const e of index) {
      const section = e.section.toLowerCase(), title = e.title.toLowerCase(), text = e.text.toLowerCase();
      let score = 0;
      for (const t of ts) {
        const s = (section.includes(t) ? 10 : 0) + (title.includes(t) ? 5 : 0) + count(text, t);
        if (!s) { score = 0; break; }
        score += s;
      }
      if (score) hits.push({ entry: e, score: score });
    }
    hits.sort((a, b) => b.score - a.score);
    return hits.slice(0, limit || 30).map(h => h.entry);
  }

  // A short piece of the text around the first term found in it.
  function snippet(text, query, width) {
    width = width || 160;
    const lower = text.toLowerCase();
    let at = -1;
    for (const t of terms(query)) { at = lower.indexOf(t); if (at >= 0) break; }
    const start = Math.max(0, at - width / 3);
    const piece = text.slice(start, start + width);
    return (start > 0 ? '… ' : '') + piece + (start + width < text.length ? ' …' : '');
  }

  if (typeof module === 'object' && module.exports) module.exports = { search: search, snippet: snippet };
  if (typeof document === 'undefined') return;

  const me = document.currentScript, root = me.dataset.root || '';
  const input = document.getElementById('search-input'), panel = document.getElementById('search-results');
  if (!input || !panel) return;

  function loadIndex(then) {
    if (window.VISLAB_SEARCH) return then();
    if (loadIndex.loading) return loadIndex.loading.push(then);
    loadIndex.loading = [then];
    const s = document.createElement('script');
    s.src = root + 'search_index.js';
    s.onload = () => loadIndex.loading.forEach(f => f());
    s.onerror = () => { panel.hidden = false; panel.textContent = 'The search index (search_index.js) could not be loaded.'; };
    document.head.appendChild(s);
  }

  // Text with the query's terms in <mark>, built as DOM nodes (never as HTML from the index).
  function marked(text, query) {
    const span = document.createElement('span');
    const ts = terms(query).map(t => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const parts = ts.length ? text.split(new RegExp('(' + ts.join('|') + ')', 'i')) : [text];
    parts.forEach((p, i) => {
      if (i % 2) { const m = document.createElement('mark'); m.textContent = p; span.appendChild(m); }
      else span.appendChild(document.createTextNode(p));
    });
    return span;
  }

  function show() {
    const query = input.value.trim();
    panel.textContent = '';
    if (!query) { panel.hidden = true; return; }
    const hits = search(window.VISLAB_SEARCH, query);
    const head = document.createElement('p');
    head.className = 'search-count';
    head.textContent = hits.length ? `${hits.length}${hits.length === 30 ? '+' : ''} sections match “${query}”` : `Nothing matches “${query}”`;
    panel.appendChild(head);
    const list = document.createElement('ul');
    for (const e of hits) {
      const a = document.createElement('a');
      a.href = root + e.page + (e.id ? '#' + e.id : '');
      const where = document.createElement('span');
      where.className = 'search-where';
      where.appendChild(marked(e.title, query));
      if (e.id) { where.appendChild(document.createTextNode(' › ')); where.appendChild(marked(e.section, query)); }
      a.appendChild(where);
      if (e.text) { const s = marked(snippet(e.text, query), query); s.className = 'search-snippet'; a.appendChild(s); }
      a.addEventListener('click', () => { panel.hidden = true; });
      const li = document.createElement('li');
      li.appendChild(a);
      list.appendChild(li);
    }
    panel.appendChild(list);
    panel.hidden = false;
  }

  input.addEventListener('input', () => loadIndex(show));
  input.addEventListener('focus', () => loadIndex(() => { if (input.value.trim()) show(); }));
  input.addEventListener('keydown', ev => {
    const first = panel.querySelector('a');
    if (ev.key === 'Escape') { panel.hidden = true; input.blur(); }
    else if (ev.key === 'Enter' && first) { ev.preventDefault(); first.click(); location.href = first.href; }
    else if (ev.key === 'ArrowDown' && first) { ev.preventDefault(); first.focus(); }
  });
  panel.addEventListener('keydown', ev => {
    const links = [...panel.querySelectorAll('a')], i = links.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown' && i < links.length - 1) { ev.preventDefault(); links[i + 1].focus(); }
    else if (ev.key === 'ArrowUp') { ev.preventDefault(); (i > 0 ? links[i - 1] : input).focus(); }
    else if (ev.key === 'Escape') { panel.hidden = true; input.focus(); }
  });
  document.addEventListener('click', ev => { if (!panel.contains(ev.target) && ev.target !== input) panel.hidden = true; });

  const q = new URLSearchParams(location.search).get('q');
  if (q) { input.value = q; loadIndex(show); }
})();
