// Run in the page by tests/browser/browser_support.py: every problem found, as text.
// The checks stand in for axe-core's serious rules that apply to these pages: labels, names,
// lang, alt, ids, lists, heading order, text contrast (WCAG AA), target size (44 px), reflow.
() => {
  const problems = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const name = (el) => (el.getAttribute('aria-label') || '').trim() ||
    (el.getAttribute('aria-labelledby') || '').split(/\s+/).map(id => {
      const t = id && document.getElementById(id); return t ? t.textContent.trim() : '';
    }).join(' ').trim() || (el.textContent || '').trim() || (el.getAttribute('title') || '').trim();
  const html = document.documentElement;
  const langOk = (v) => /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(v || '');
  if (!langOk(html.getAttribute('lang'))) problems.push('html lang missing or invalid');
  document.querySelectorAll('[lang]').forEach(el => {
    if (!langOk(el.getAttribute('lang'))) problems.push('invalid lang on ' + el.tagName);
  });
  if (!document.title.trim()) problems.push('page has no title');
  const ids = {};
  document.querySelectorAll('[id]').forEach(el => { ids[el.id] = (ids[el.id] || 0) + 1; });
  Object.entries(ids).forEach(([id, n]) => { if (n > 1) problems.push('duplicate id ' + id); });
  document.querySelectorAll('[aria-labelledby],[aria-describedby]').forEach(el => {
    ['aria-labelledby', 'aria-describedby'].forEach(attr => {
      (el.getAttribute(attr) || '').split(/\s+/).filter(Boolean).forEach(id => {
        if (!document.getElementById(id)) problems.push(attr + ' points to missing #' + id);
      });
    });
  });
  document.querySelectorAll('input, select, textarea').forEach(el => {
    if (el.type === 'hidden') return;
    const labelled = (el.labels && el.labels.length && [...el.labels].some(l => l.textContent.trim()))
      || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled) problems.push('form field without a label: ' + (el.name || el.id));
  });
  document.querySelectorAll('input[type=radio]').forEach(el => {
    const fs = el.closest('fieldset');
    if (!fs || !fs.querySelector('legend') || !fs.querySelector('legend').textContent.trim())
      problems.push('radio group without a fieldset legend: ' + el.name);
  });
  document.querySelectorAll('img').forEach(el => {
    if (!el.hasAttribute('alt')) problems.push('image without alt: ' + el.src);
  });
  document.querySelectorAll('svg[role=img]').forEach(el => {
    if (!name(el)) problems.push('svg image without a name');
  });
  document.querySelectorAll('button, a[href], [role=button]').forEach(el => {
    if (visible(el) && !name(el)) problems.push('control without a name: ' + el.outerHTML.slice(0, 80));
  });
  document.querySelectorAll('ul, ol').forEach(el => {
    [...el.children].forEach(c => {
      if (!['LI', 'SCRIPT', 'TEMPLATE'].includes(c.tagName)) problems.push('list child ' + c.tagName);
    });
  });
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter(visible);
  if (headings.filter(h => h.tagName === 'H1').length !== 1) problems.push('needs exactly one h1');
  let last = 0;
  headings.forEach(h => {
    const level = +h.tagName[1];
    if (level > last + 1) problems.push('heading level skips to ' + h.tagName + ': ' + h.textContent.trim().slice(0, 40));
    if (!h.textContent.trim()) problems.push('empty heading');
    last = level;
  });
  // Target size: buttons, button-like links, navigation links, option labels, text fields.
  document.querySelectorAll('button, a.button, header a, .help a, label.opt, input[type=text], input[type=password], select, summary').forEach(el => {
    if (!visible(el) || el.classList.contains('skip')) return;
    const r = el.getBoundingClientRect();
    if (r.height < 43.5 || r.width < 43.5) problems.push('target smaller than 44px: ' + (el.textContent || el.name || el.tagName).trim().slice(0, 40) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
  });
  // Contrast of text against its effective background.
  const rgb = (s) => { const m = s.match(/[\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 1]; };
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
    .reduce((acc, v, i) => acc + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0.5) return c;
    }
    return [255, 255, 255, 1];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const node = walker.currentNode; const el = node.parentElement;
    if (!node.textContent.trim() || !el || seen.has(el) || el.closest('svg, script, style, .sr-only, .skip')) continue;
    seen.add(el);
    if (!visible(el)) continue;
    const style = getComputedStyle(el);
    const fg = lum(rgb(style.color)); const bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize); const bold = parseInt(style.fontWeight, 10) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) problems.push('contrast ' + ratio.toFixed(2) + ' < ' + need + ': ' + node.textContent.trim().slice(0, 40));
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    problems.push('horizontal scroll: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
  return problems;
}
