'use strict';
// Draws the grid of the step shown from the page data (#gm-data): one element per slot, or,
// for maps of more than 4096 buckets or groups, a canvas per array (cells of 3 pixels, the
// slot under the pointer named in a tooltip). A click on a bucket or group shows its slots
// and labelled hex; the stepper shows a replay's dumps. Text from the data is escaped.
(async () => {
  const $ = (q, e = document) => e.querySelector(q);
  const esc = s => String(s).replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c]);
  const NAME = {L: 'live', S: 'live tophash, not an entry', O: 'EMPTY_ONE', R: 'EMPTY_REST', X: 'EVACUATED_X',
    Y: 'EVACUATED_Y', E: 'EVACUATED_EMPTY', F: 'full', D: 'deleted', M: 'empty', Q: 'not a valid control byte'};
  const grid = $('#grid'), tipEl = $('#tip');
  // A data block's text: as it is, or gunzipped from base64 (data-gz).
  const inflate = async el => {
    const bin = atob(el.textContent), bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip')));
  };
  let D, BYTES = null;
  const bytes = async () => BYTES || (BYTES = new Uint8Array(await (await inflate($('#gm-bytes'))).arrayBuffer()));
  try {
    const el = $('#gm-data');
    D = JSON.parse(el.hasAttribute('data-gz') ? await (await inflate(el)).text() : el.textContent);
  } catch (e) {
    grid.textContent = 'This page cannot read its own data: ' + e;
    console.error(e);
    return;
  }
  const classic = D.kind === 'classic';
  if (!D.steps.length) {
    grid.textContent = 'Nothing to draw: the replay recorded no dump.';
    document.body.dataset.ready = performance.now().toFixed(0);
    return;
  }
  const idOf = id => 'r-' + id.replace(/[^A-Za-z0-9]/g, '-');
  const tip = (p, i) => {
    const s = p.s[i], k = p.k[i];
    if (k == null) return NAME[s] + (p.t ? ' (' + (classic ? 'tophash' : 'ctrl') + ' 0x' + p.t.substr(2 * i, 2) + ')' : '');
    const kv = k + ' → ' + p.e[i];
    return s === 'L' || s === 'F' ? kv : NAME[s] + ': ' + kv;
  };

  // Elements: a span per bucket, an <i> per slot (with its key and elem as a tooltip).
  const cells = (pi, mask, label) => {
    const p = D.pool[pi];
    let h = '<span class=b data-p=' + pi + '>' + (label ? '<sub>' + label + '</sub><span>' : '');
    for (let i = 0; i < 8; i++) {
      h += '<i class="c ' + p.s[i] + ((mask >> i) & 1 ? ' g' : '') + '" title="' + esc(tip(p, i)) + '"></i>';
    }
    return h + (label ? '</span>' : '') + '</span>';
  };
  const rowHtml = r => {
    const head = D.pool[r.b[0]];
    let h = '<div class="row ' + r.k + (r.v ? ' ev' : '') + '" id="' + idOf(head.id) + '"' +
      (r.x ? ' data-x="' + esc(r.x) + '" data-y="' + esc(r.y || '') + '" data-v=' + r.v : '') +
      '><span class=id>' + esc(head.id) + '</span>';
    r.b.forEach((pi, j) => {
      if (j) h += '<span class=ar>→</span><span class=cid>' + esc(D.pool[pi].id) + '</span>';
      h += cells(pi, r.m ? r.m[j] : 0);
    });
    return h + (r.t ? '<span class=tag>' + esc(rowNote(r)) + '</span>' : '') + '</div>';
  };
  const rowNote = r => r.t + (r.x ? ' → ' + r.x + ' (X)' + (r.y ? ', ' + r.y + ' (Y)' : '') : '');

  // Canvases: rows flow left to right, a bucket 8 cells of 3 pixels, 4 pixels a line.
  const CELL = 3, LINE = 4, COLORS = {};
  const css = getComputedStyle(document.documentElement);
  for (const s of 'LORXYEQ') COLORS[s] = css.getPropertyValue('--' + s).trim();
  Object.assign(COLORS, {F: COLORS.L, D: COLORS.O, M: COLORS.R, S: '#a7c9b0', g: css.getPropertyValue('--g').trim()});
  let canvases = [];  // {el, tiles: [{x, y, w, r, b: [pool index...]}], byId}
  // The colours as RGBA words, for ImageData.
  const RGBA = {};
  {
    const c = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
    for (const [k, v] of Object.entries(COLORS)) {
      c.fillStyle = v;
      c.fillRect(0, 0, 1, 1);
      RGBA[k] = new Uint32Array(c.getImageData(0, 0, 1, 1).data.buffer)[0];
    }
  }
  const paint = (img, width, tiles) => {
    const px = new Uint32Array(img.data.buffer);
    for (const t of tiles) {
      t.b.forEach((pi, j) => {
        const p = D.pool[pi], x0 = t.x + j * (8 * CELL + 1), m = t.r.m ? t.r.m[j] : 0;
        for (let i = 0; i < 8; i++) {
          const c = (m >> i) & 1 ? RGBA.g : RGBA[p.s[i]];
          for (let dy = 0; dy < CELL; dy++) {
            const o = (t.y + dy) * width + x0 + i * CELL;
            for (let dx = 0; dx < CELL; dx++) px[o + dx] = c;
          }
        }
      });
    }
  };
  const drawCanvas = (host, rows) => {
    const width = Math.max(200, Math.floor(host.clientWidth || 600));
    const tiles = [];
    let x = 0, y = 0;
    for (const r of rows) {
      const w = r.b.length * (8 * CELL + 1) - 1;
      if (x + w > width && x > 0) { x = 0; y += LINE; }
      tiles.push({x, y, w, r, b: r.b});
      x += w + 3;
    }
    const c = document.createElement('canvas'), ov = document.createElement('canvas');
    c.width = ov.width = width;
    c.height = ov.height = y + LINE;
    c.className = 'cv';
    ov.className = 'ov';
    host.append(c, ov);
    const ctx = c.getContext('2d'), img = ctx.createImageData(width, y + LINE);
    paint(img, width, tiles);
    ctx.putImageData(img, 0, 0);
    const cv = {el: c, ctx, ov: ov.getContext('2d'), tiles, byId: new Map(tiles.map(t => [D.pool[t.b[0]].id, t]))};
    canvases.push(cv);
    return cv;
  };
  const hit = (cv, ev) => {
    const rc = cv.el.getBoundingClientRect(), x = ev.clientX - rc.left, y = ev.clientY - rc.top;
    const line = Math.floor(y / LINE) * LINE;
    for (const t of cv.tiles) {
      if (t.y === line && x >= t.x && x < t.x + t.w + 1) {
        const j = Math.min(t.b.length - 1, Math.floor((x - t.x) / (8 * CELL + 1)));
        const i = Math.min(7, Math.floor((x - t.x - j * (8 * CELL + 1)) / CELL));
        return {t, pi: t.b[j], i};
      }
    }
    return null;
  };

  let huge = false;
  const drawClassic = st => {
    st.rows = st.rows || [];
    st.old = st.old || [];
    const nb = st.rows.concat(st.old).reduce((a, r) => a + r.b.length, 0);
    huge = nb > 4096;
    grid.className = huge ? 'huge' : nb > 1024 ? 'big' : '';
    const heads = st.rows.filter(r => r.k !== 'p'), pre = st.rows.filter(r => r.k === 'p');
    const used = (st.used || []).length ? '<div class=used>in use: ' + st.used.map(([b, h]) =>
      '<a href="#' + idOf(h) + '">' + esc(b) + '</a> in the chain of ' + esc(h)).join('; ') + '</div>' : '';
    const preTitle = pre.length || used ? '<h4>preallocated overflow buckets (allocated with the array)</h4>' + used : '';
    const growing = st.old.length > 0;
    const oldTitle = '<h3>oldbuckets: ' + st.nold + ', ' + (st.same ? 'same-size' : 'doubling') + ' grow in progress</h3>';
    const newTitle = '<h3>buckets: ' + st.nb + ' bucket' + (st.nb === 1 ? '' : 's') + '</h3>';
    const nev = st.old.findIndex(r => { const m = /^old\[(\d+)\]$/.exec(D.pool[r.b[0]].id); return m && +m[1] >= st.nev; });
    const nevText = 'nevacuate = ' + st.nev + (nev >= 0 ? ': every old bucket above this line is evacuated' : '');
    if (!st.rows.length && !growing) { grid.innerHTML = '<p>no buckets: the map has no bucket array yet</p>'; return; }
    if (huge) {
      grid.innerHTML = (growing ? '<div class=grow><div class="arr old">' + oldTitle + '<p class=nev>' + esc(nevText) +
        ' (a red mark before old[' + st.nev + '])</p><div class=host></div></div>' : '') +
        '<div class="arr new">' + newTitle + '<div class=host></div>' + preTitle + '<div class=host></div></div>' + (growing ? '</div>' : '');
      const hosts = grid.querySelectorAll('.host');
      let k = 0;
      if (growing) {
        const cv = drawCanvas(hosts[k++], st.old);
        const t = nev >= 0 ? cv.tiles[nev] : null;
        if (t) { cv.ctx.fillStyle = COLORS.Q; cv.ctx.fillRect(t.x - 2, t.y - 1, 1, CELL + 2); }
      }
      drawCanvas(hosts[k++], heads);
      if (pre.length) drawCanvas(hosts[k], pre);
      return;
    }
    const nw = '<div class="arr new">' + newTitle + heads.map(rowHtml).join('') + preTitle + pre.map(rowHtml).join('') + '</div>';
    if (!growing) { grid.innerHTML = nw; return; }
    let old = '<div class="arr old">' + oldTitle;
    st.old.forEach((r, j) => {
      if (j === nev) old += '<div class=nev>' + esc(nevText) + '</div>';
      old += rowHtml(r);
    });
    if (nev < 0) old += '<div class=nev>' + esc(nevText) + '</div>';
    grid.innerHTML = '<div class=grow>' + old + '</div>' + nw + '<svg class=links></svg></div>';
    links();
  };
  // The old buckets' links to their X and Y targets (only the selected one's past 256).
  const links = hot => {
    const g = $('.grow', grid), svg = g && $('svg.links', g);
    if (!svg) return;
    const base = g.getBoundingClientRect();
    svg.setAttribute('width', base.width);
    svg.setAttribute('height', base.height);
    const olds = [...grid.querySelectorAll('.row.o')];
    let h = '';
    for (const r of olds) {
      if (olds.length > 256 && r !== hot) continue;
      const a = r.getBoundingClientRect();
      for (const [t, cls] of [[r.dataset.x, 'lx'], [r.dataset.y, 'ly']]) {
        const tr = t && document.getElementById(idOf(t));
        if (!tr) continue;
        const b = $('.b', tr).getBoundingClientRect();
        const x1 = a.right - base.left, y1 = a.top + a.height / 2 - base.top;
        const x2 = b.left - base.left, y2 = b.top + b.height / 2 - base.top;
        const mid = (x1 + x2) / 2;
        h += '<path class="' + cls + (r.dataset.v === '1' ? '' : ' pend') + (r === hot ? ' hot' : '') +
          '" d="M' + x1 + ' ' + y1 + 'C' + mid + ' ' + y1 + ' ' + mid + ' ' + y2 + ' ' + x2 + ' ' + y2 + '"/>';
      }
    }
    svg.innerHTML = h;
  };
  const drawSwiss = st => {
    st.tables = st.tables || [];
    const n = st.tables.reduce((a, t) => a + t.b.length, 0);
    huge = n > 4096;
    grid.className = huge ? 'huge' : n > 1024 ? 'big' : '';
    const head = t => '<div class=tbl id="t-' + (t.n ?? 's') + '" style="--h:' + (t.n == null ? 120 : (t.n * 137 + 200) % 360) +
      '"><h3>' + esc(t.h) + '</h3>';
    if (huge) {
      grid.innerHTML = st.tables.map(t => head(t) + '<div class=host></div></div>').join('');
      const hosts = grid.querySelectorAll('.host');
      st.tables.forEach((t, j) => drawCanvas(hosts[j], t.b.map((pi, k) => ({b: [pi], k: 'g', g: t.i[k]}))));
      return;
    }
    grid.innerHTML = st.tables.map(t => head(t) + '<div class=groups>' +
      t.b.map((pi, j) => cells(pi, 0, 'g' + t.i[j])).join('') + '</div></div>').join('') ||
      '<p>no group: the map has no group yet</p>';
  };

  // The step shown.
  const tops = [...document.querySelectorAll('section.top')], mores = [...document.querySelectorAll('section.more')];
  let cur = 0;
  const show = i => {
    cur = Math.max(0, Math.min(D.steps.length - 1, i));
    for (const list of [tops, mores]) list.forEach((s, j) => { s.hidden = j !== cur; });
    closeDetail();
    canvases = [];
    (classic ? drawClassic : drawSwiss)(D.steps[cur]);
    const w = $('#where');
    if (w) w.textContent = (tops[cur] ? tops[cur].dataset.label : '') + '  (' + (cur + 1) + '/' + D.steps.length + ')';
    document.body.dataset.step = cur;
  };

  // A bucket's or group's slots and labelled hex.
  const hexOf = (pi, B) => {
    if (!B) return '<p>the bytes were left out (--no-hex)</p>';
    const p = D.pool[pi], base = pi * D.size, hx2 = o => B[base + o].toString(16).padStart(2, '0');
    let out = '';
    const a = BigInt('0x' + p.a);
    for (let l = 0; l * 16 < D.size; l++) {
      let hx = '', asc = '';
      for (let i = 0; i < 16; i++) {
        const o = l * 16 + i;
        if (i === 8) hx += ' ';
        if (o >= D.size) { hx += '   '; asc += ' '; continue; }
        const byte = B[base + o], r = D.regions[o];
        hx += '<span class="' + (byte ? r : 'z ' + r) + '">' + hx2(o) + '</span> ';
        asc += esc(byte >= 32 && byte < 127 ? String.fromCharCode(byte) : '.');
      }
      out += (a + BigInt(l * 16)).toString(16).padStart(16, '0') + '  ' + hx + ' |' + asc + '|  <span class=lab>' +
        esc(D.lines[l] || '') + '</span>\n';
    }
    return '<pre class=hex>' + out + '</pre>';
  };
  const detail = $('#detail');
  let marked = [];
  function closeDetail() {
    detail.hidden = true;
    for (const m of marked) m();
    marked = [];
  }
  // Marks a bucket (an element, or a canvas tile) until the detail closes.
  const mark = (el, cls, cv, t) => {
    if (el) { el.classList.add(cls); marked.push(() => el.classList.remove(cls)); }
    if (cv && t) {
      // On the canvas's overlay: a bar under the bucket, and one above.
      cv.ov.fillStyle = cls === 'sel' ? '#111' : COLORS.g;
      cv.ov.fillRect(t.x - 1, t.y - 1, t.w + 2, 1);
      cv.ov.fillRect(t.x - 1, t.y + CELL, t.w + 2, 1);
      marked.push(() => cv.ov.clearRect(0, 0, cv.ov.canvas.width, cv.ov.canvas.height));
    }
  };
  let opening = 0;
  const open = async (pi, el, cv, t) => {
    closeDetail();
    const ticket = ++opening, B = D.hex ? await bytes() : null;
    if (ticket !== opening) return;
    const p = D.pool[pi];
    mark(el, 'sel', cv, t);
    let h = '<h3>' + esc(p.id) + ' 0x' + esc(p.a) + '</h3><p>' + esc(p.d) + '</p><table class=slots><tr><th>slot<th>' +
      (classic ? 'tophash' : 'ctrl') + '<th>state<th>key<th>elem</tr>';
    for (let i = 0; i < 8; i++) {
      const th = B ? B[pi * D.size + i].toString(16).padStart(2, '0') : p.t.substr(2 * i, 2);
      h += '<tr><td>' + i + '<td>0x' + th + '<td>' + NAME[p.s[i]] + '<td class=k>' +
        esc(p.k[i] ?? '') + '<td class=e>' + esc(p.e[i] ?? '') + '</tr>';
    }
    h += '</table>';
    if (classic) h += '<p>overflow: ' + (p.o === '0' ? 'nil' : '0x' + esc(p.o) + ' → ' + esc(p.n)) + '</p>';
    $('#dbody').innerHTML = h + hexOf(pi, B);
    detail.hidden = false;
    // An old bucket: its X and Y targets.
    const row = el ? el.closest('.row.o') : null, r = t ? t.r : null;
    const x = row ? row.dataset.x : r && r.x, y = row ? row.dataset.y : r && r.y;
    for (const id of [x, y]) {
      if (!id) continue;
      const tr = document.getElementById(idOf(id));
      if (tr) mark($('.b', tr), 'tgt');
      for (const c of canvases) if (c.byId.has(id)) mark(null, 'tgt', c, c.byId.get(id));
    }
    if (row) links(row);
  };
  grid.addEventListener('click', e => {
    tipEl.hidden = true;
    if (e.target.tagName === 'CANVAS') {
      const cv = canvases.find(c => c.el === e.target), h = cv && hit(cv, e);
      if (h) open(h.pi, null, cv, h.t);
      return;
    }
    const b = e.target.closest('.b');
    if (b) open(+b.dataset.p, b);
  });
  grid.addEventListener('mousemove', e => {
    const cv = e.target.tagName === 'CANVAS' && canvases.find(c => c.el === e.target), h = cv && hit(cv, e);
    if (!h) { tipEl.hidden = true; return; }
    const p = D.pool[h.pi];
    tipEl.textContent = p.id + ' slot ' + h.i + ': ' + tip(p, h.i) + (h.t.r.t ? '  (' + rowNote(h.t.r) + ')' : '');
    tipEl.style.left = (e.clientX + 12) + 'px';
    tipEl.style.top = (e.clientY + 12) + 'px';
    tipEl.hidden = false;
  });
  grid.addEventListener('mouseleave', () => { tipEl.hidden = true; });
  $('#close').addEventListener('click', closeDetail);
  const prev = $('#prev'), next = $('#next');
  if (prev) prev.addEventListener('click', () => show(cur - 1));
  if (next) next.addEventListener('click', () => show(cur + 1));
  const many = D.steps.length > 1;
  document.addEventListener('keydown', e => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'Escape') closeDetail();
    else if (!many) return;
    else if (e.key === 'ArrowLeft') show(cur - 1);
    else if (e.key === 'ArrowRight') show(cur + 1);
    else if (e.key === 'Home') show(0);
    else if (e.key === 'End') show(D.steps.length - 1);
    else return;
    e.preventDefault();
  });
  let resized = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resized);
    resized = setTimeout(() => (huge ? show(cur) : links()), 150);
  });
  show(0);
  document.body.dataset.ready = performance.now().toFixed(0);
})();
