// The osprey serve page: upload, regions (box, brush, points with SAM), questions with streamed answers,
// describe all, COCO export. No libraries, no network but this server.
'use strict';

const COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45',
  '#fabed4', '#469990', '#dcbeff', '#9a6324', '#800000', '#aaffc3', '#808000', '#000075'];

const state = {
  image: null,      // {id, width, height, bitmap, name}
  regions: [],      // {mask: Uint8Array(w*h), color, description}
  points: [],       // pending clicks [{x, y, label}]
  history: [],      // [{q, a}] answered turns of the current conversation
  segment: false,   // the server has SAM
  abort: null,
  scale: 1,
};

const $ = (id) => document.getElementById(id);
const canvas = $('canvas');
const ctx = canvas.getContext('2d');

function status(text, isError) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', !!isError);
}

function busy(on) {
  $('progress').hidden = !on;
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = $('api-key').value.trim();
  if (key) h['Authorization'] = 'Bearer ' + key;
  return h;
}

/** A failed response as one line: the server's error message, with Retry-After for a busy server. */
async function failure(resp) {
  let msg = resp.status + ' ' + resp.statusText;
  try {
    const body = await resp.json();
    if (body.error && body.error.message) msg = body.error.message;
  } catch (e) { /* not JSON */ }
  if (resp.status === 503) {
    const after = resp.headers.get('Retry-After');
    return 'The server is busy' + (after ? ', retry in ' + after + ' s' : '') + ': ' + msg;
  }
  return 'Refused (' + resp.status + '): ' + msg;
}

async function init() {
  try {
    const h = await (await fetch('/health')).json();
    state.segment = !!h.segment;
    $('model-line').textContent = 'Model ' + h.model + (h.segment ? ', with SAM' : ', no SAM (boxes are rectangles; points need --sam)');
  } catch (e) {
    status('Cannot reach the server', true);
  }
  $('file').addEventListener('change', (e) => e.target.files[0] && upload(e.target.files[0]));
  const drop = $('drop');
  drop.addEventListener('click', (e) => { if (e.target !== $('file')) $('file').click(); });
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('file').click(); } });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
  });
  canvas.addEventListener('pointerdown', pointerDown);
  canvas.addEventListener('pointermove', pointerMove);
  canvas.addEventListener('pointerup', pointerUp);
  $('finish-points').addEventListener('click', finishPoints);
  $('undo').addEventListener('click', () => { state.regions.pop(); changed(); });
  $('clear').addEventListener('click', () => { state.regions = []; state.points = []; changed(); });
  $('ask').addEventListener('click', ask);
  $('stop').addEventListener('click', () => state.abort && state.abort.abort());
  $('new-chat').addEventListener('click', () => { state.history = []; $('conversation').textContent = ''; });
  $('describe').addEventListener('click', describeAll);
  $('export').addEventListener('click', exportCoco);
  $('question').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) ask(); });
}

async function upload(file) {
  status('Encoding the image…');
  busy(true);
  try {
    const resp = await fetch('/v1/images', { method: 'POST', headers: headers({ 'Content-Type': file.type || 'application/octet-stream' }), body: file });
    if (!resp.ok) { status(await failure(resp), true); return; }
    const info = await resp.json();
    const bitmap = await createImageBitmap(file);
    state.image = { id: info.id, width: info.width, height: info.height, bitmap: bitmap, name: file.name || 'image.png' };
    state.regions = [];
    state.points = [];
    state.history = [];
    $('conversation').textContent = '';
    const maxW = Math.min(900, $('stage').clientWidth || 900);
    state.scale = Math.min(1, maxW / info.width) || 1;
    if (info.width * state.scale < 448) state.scale = Math.min(4, 448 / info.width);
    canvas.width = Math.round(info.width * state.scale);
    canvas.height = Math.round(info.height * state.scale);
    changed();
    status('Image ' + info.width + 'x' + info.height + (info.cached ? ' (already encoded)' : ' encoded in ' + info.encode_ms + ' ms') + '. Draw a region.');
  } catch (e) {
    status('Upload failed: ' + e.message, true);
  } finally {
    busy(false);
  }
}

function tool() {
  return document.querySelector('input[name=tool]:checked').value;
}

function toImage(e) {
  const r = canvas.getBoundingClientRect();
  const x = (e.clientX - r.left) * (canvas.width / r.width) / state.scale;
  const y = (e.clientY - r.top) * (canvas.height / r.height) / state.scale;
  return { x: Math.max(0, Math.min(state.image.width - 1, x)), y: Math.max(0, Math.min(state.image.height - 1, y)) };
}

let drag = null;

function pointerDown(e) {
  if (!state.image) { status('Upload an image first', true); return; }
  canvas.setPointerCapture(e.pointerId);
  const p = toImage(e);
  const t = tool();
  if (t === 'box') {
    drag = { kind: 'box', x0: p.x, y0: p.y, x1: p.x, y1: p.y };
  } else if (t === 'brush') {
    drag = { kind: 'brush', mask: new Uint8Array(state.image.width * state.image.height) };
    paint(drag.mask, p);
    draw(drag.mask);
  } else {
    state.points.push({ x: p.x, y: p.y, label: t === 'point+' ? 1 : 0 });
    $('finish-points').disabled = false;
    draw();
    status(state.points.length + ' point(s); press "Make region from points" when done');
  }
}

function pointerMove(e) {
  if (!drag) return;
  const p = toImage(e);
  if (drag.kind === 'box') {
    drag.x1 = p.x; drag.y1 = p.y;
    draw();
  } else {
    paint(drag.mask, p);
    draw(drag.mask);
  }
}

async function pointerUp(e) {
  if (!drag) return;
  const d = drag;
  drag = null;
  if (d.kind === 'box') {
    const box = [Math.min(d.x0, d.x1), Math.min(d.y0, d.y1), Math.max(d.x0, d.x1), Math.max(d.y0, d.y1)].map(Math.round);
    if (box[2] - box[0] < 2 || box[3] - box[1] < 2) { draw(); return; }
    if (state.segment) {
      await segment({ box: box });
    } else {
      addRegion(rectangle(box));
    }
  } else {
    addRegion(d.mask);
  }
}

function paint(mask, p) {
  const r = Number($('brush-size').value) / state.scale / 2;
  const w = state.image.width, h = state.image.height;
  for (let y = Math.max(0, Math.floor(p.y - r)); y <= Math.min(h - 1, Math.ceil(p.y + r)); y++) {
    for (let x = Math.max(0, Math.floor(p.x - r)); x <= Math.min(w - 1, Math.ceil(p.x + r)); x++) {
      if ((x - p.x) * (x - p.x) + (y - p.y) * (y - p.y) <= r * r) mask[y * w + x] = 1;
    }
  }
}

function rectangle(box) {
  const w = state.image.width, h = state.image.height;
  const m = new Uint8Array(w * h);
  for (let y = Math.max(0, box[1]); y < Math.min(h, box[3]); y++) {
    for (let x = Math.max(0, box[0]); x < Math.min(w, box[2]); x++) m[y * w + x] = 1;
  }
  return m;
}

async function finishPoints() {
  const pts = state.points;
  state.points = [];
  $('finish-points').disabled = true;
  if (pts.length) await segment({ points: pts.map((p) => [p.x, p.y]), labels: pts.map((p) => p.label) });
  draw();
}

/** Points or a box to a mask by the server (SAM); its refusal is shown as it comes. */
async function segment(prompt) {
  busy(true);
  try {
    const resp = await fetch('/v1/segment', { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }),
      body: JSON.stringify({ image: state.image.id, prompts: [prompt] }) });
    if (!resp.ok) { status(await failure(resp), true); return; }
    const out = await resp.json();
    addRegion(fromRle(out.masks[0].segmentation));
  } finally {
    busy(false);
  }
}

function addRegion(mask) {
  let any = false;
  for (let i = 0; i < mask.length && !any; i++) any = mask[i] === 1;
  if (!any) { status('That region covers no pixel', true); draw(); return; }
  state.regions.push({ mask: mask, color: COLORS[state.regions.length % COLORS.length], description: '' });
  changed();
  status('Region ' + state.regions.length + ' added');
}

function changed() {
  draw();
  const list = $('regions');
  list.textContent = '';
  state.regions.forEach((r, i) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = r.color;
    li.appendChild(sw);
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = '<region' + (i + 1) + '>';
    b.setAttribute('aria-label', 'Insert region ' + (i + 1) + ' into the question');
    b.addEventListener('click', () => insertRef(i + 1));
    li.appendChild(b);
    const del = document.createElement('button');
    del.type = 'button';
    del.textContent = '✕';
    del.setAttribute('aria-label', 'Remove region ' + (i + 1));
    del.addEventListener('click', () => { state.regions.splice(i, 1); changed(); });
    li.appendChild(del);
    const d = document.createElement('span');
    d.className = 'desc';
    d.textContent = r.description;
    li.appendChild(d);
    list.appendChild(li);
  });
}

function insertRef(n) {
  const q = $('question');
  const ref = '<region' + n + '>';
  const at = q.selectionStart ?? q.value.length;
  q.value = q.value.slice(0, at) + ref + q.value.slice(q.selectionEnd ?? at);
  q.focus();
  q.selectionStart = q.selectionEnd = at + ref.length;
}

function draw(extraMask) {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!state.image) return;
  ctx.drawImage(state.image.bitmap, 0, 0, canvas.width, canvas.height);
  const w = state.image.width, h = state.image.height;
  const overlay = new ImageData(w, h);
  const layers = state.regions.map((r) => [r.mask, r.color]);
  if (extraMask) layers.push([extraMask, COLORS[state.regions.length % COLORS.length]]);
  for (const [mask, color] of layers) {
    const c = [1, 3, 5].map((k) => parseInt(color.slice(k, k + 2), 16));
    for (let i = 0; i < mask.length; i++) {
      if (mask[i]) {
        overlay.data[4 * i] = c[0]; overlay.data[4 * i + 1] = c[1]; overlay.data[4 * i + 2] = c[2];
        overlay.data[4 * i + 3] = 115;
      }
    }
  }
  const off = new OffscreenCanvas(w, h);
  off.getContext('2d').putImageData(overlay, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  ctx.font = 'bold 16px system-ui, sans-serif';
  state.regions.forEach((r, i) => {
    const b = bbox(r.mask);
    const x = (b[0] + b[2] / 2) * state.scale, y = (b[1] + b[3] / 2) * state.scale;
    ctx.fillStyle = '#fff';
    ctx.fillRect(x - 10, y - 12, 20, 20);
    ctx.fillStyle = r.color;
    ctx.fillText(String(i + 1), x - 5, y + 4);
  });
  if (drag && drag.kind === 'box') {
    ctx.strokeStyle = '#ff0';
    ctx.lineWidth = 2;
    ctx.strokeRect(drag.x0 * state.scale, drag.y0 * state.scale, (drag.x1 - drag.x0) * state.scale, (drag.y1 - drag.y0) * state.scale);
  }
  for (const p of state.points) {
    ctx.fillStyle = p.label ? '#0c0' : '#d00';
    ctx.beginPath();
    ctx.arc(p.x * state.scale, p.y * state.scale, 5, 0, 2 * Math.PI);
    ctx.fill();
  }
}

/** COCO uncompressed RLE: column-major runs, starting with a run of zeros. */
function toRle(mask) {
  const w = state.image.width, h = state.image.height;
  const counts = [];
  let cur = 0, run = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = mask[y * w + x];
      if (v !== cur) { counts.push(run); run = 0; cur = v; }
      run++;
    }
  }
  counts.push(run);
  return { size: [h, w], counts: counts };
}

/** A mask from a COCO RLE the server sent (compressed counts string, as pycocotools writes it). */
function fromRle(rle) {
  const [h, w] = rle.size;
  let counts = rle.counts;
  if (typeof counts === 'string') {
    const out = [];
    let p = 0;
    while (p < counts.length) {
      let x = 0, k = 0, more = 1, c;
      while (more) {
        c = counts.charCodeAt(p) - 48;
        x |= (c & 0x1f) << (5 * k);
        more = c & 0x20;
        p++; k++;
        if (!more && (c & 0x10)) x |= -1 << (5 * k);
      }
      if (out.length > 2) x += out[out.length - 2];
      out.push(x);
    }
    counts = out;
  }
  const m = new Uint8Array(w * h);
  let i = 0, v = 0;
  for (const n of counts) {
    for (let j = 0; j < n; j++, i++) {
      if (v) { const x = Math.floor(i / h), y = i % h; m[y * w + x] = 1; }
    }
    v = 1 - v;
  }
  return m;
}

function bbox(mask) {
  const w = state.image.width;
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) {
      const x = i % w, y = (i - x) / w;
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

function regionsJson() {
  return state.regions.map((r) => ({ mask: toRle(r.mask) }));
}

/** Reads server-sent events from a response, calling onData with each parsed data line. */
async function readEvents(resp, onData) {
  const reader = resp.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, at);
      buf = buf.slice(at + 2);
      if (!block.startsWith('data: ')) continue;
      const data = block.slice(6);
      if (data === '[DONE]') return;
      onData(JSON.parse(data));
    }
  }
}

function turn(cls, text) {
  const d = document.createElement('div');
  d.className = 'turn ' + cls;
  d.textContent = text;
  $('conversation').appendChild(d);
  return d;
}

async function ask() {
  if (!state.image) { status('Upload an image first', true); return; }
  const q = $('question').value.trim();
  if (!q) { status('Type a question', true); return; }
  const content = [{ type: 'image_url', image_url: { url: state.image.id } }];
  const messages = [];
  state.history.forEach((t, i) => {
    messages.push({ role: 'user', content: i === 0 ? content.concat([{ type: 'text', text: t.q }]) : t.q });
    messages.push({ role: 'assistant', content: t.a });
  });
  messages.push({ role: 'user', content: state.history.length ? q : content.concat([{ type: 'text', text: q }]) });
  const body = { model: 'osprey', messages: messages, regions: regionsJson(), stream: true,
    max_tokens: Number($('max-tokens').value) || 128 };
  turn('user', q);
  const out = turn('assistant', '');
  out.setAttribute('aria-busy', 'true');
  state.abort = new AbortController();
  $('stop').disabled = false;
  $('ask').disabled = true;
  status('Asking…');
  busy(true);
  let answer = '';
  try {
    const resp = await fetch('/v1/chat/completions', { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }),
      body: JSON.stringify(body), signal: state.abort.signal });
    if (!resp.ok) { out.remove(); status(await failure(resp), true); return; }
    await readEvents(resp, (c) => {
      if (c.error) throw new Error(c.error.message);
      const ch = c.choices && c.choices[0];
      if (ch && ch.delta && ch.delta.content) {
        answer += ch.delta.content;
        out.textContent = answer;
      }
    });
    state.history.push({ q: q, a: answer });
    status('Answered');
  } catch (e) {
    status(e.name === 'AbortError' ? 'Stopped' : 'Failed: ' + e.message, e.name !== 'AbortError');
  } finally {
    out.removeAttribute('aria-busy');
    $('stop').disabled = true;
    $('ask').disabled = false;
    busy(false);
  }
}

async function describeAll() {
  if (!state.image || !state.regions.length) { status('Upload an image and draw regions first', true); return; }
  status('Describing ' + state.regions.length + ' region(s)…');
  busy(true);
  try {
    const resp = await fetch('/v1/describe', { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }),
      body: JSON.stringify({ image: state.image.id, regions: regionsJson(), stream: true,
        detail: $('detailed').checked ? 'detailed' : 'short' }) });
    if (!resp.ok) { status(await failure(resp), true); return; }
    await readEvents(resp, (ev) => {
      if (ev.error) throw new Error(ev.error.message);
      state.regions[ev.index].description = ev.text;
      changed();
      status('Described ' + (ev.index + 1) + ' of ' + ev.total);
    });
  } catch (e) {
    status('Failed: ' + e.message, true);
  } finally {
    busy(false);
  }
}

function exportCoco() {
  if (!state.image) { status('Upload an image first', true); return; }
  const coco = {
    images: [{ id: 1, file_name: state.image.name, width: state.image.width, height: state.image.height }],
    categories: [{ id: 1, name: 'region' }],
    annotations: state.regions.map((r, i) => {
      let area = 0;
      for (let k = 0; k < r.mask.length; k++) area += r.mask[k];
      return { id: i + 1, image_id: 1, category_id: 1, iscrowd: 0, area: area, bbox: bbox(r.mask),
        segmentation: toRle(r.mask), description: r.description };
    }),
  };
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([JSON.stringify(coco)], { type: 'application/json' }));
  a.download = (state.image.name.replace(/\.[^.]*$/, '') || 'image') + '.coco.json';
  document.body.appendChild(a);
  a.click();
  a.remove();
  status('Exported ' + state.regions.length + ' region(s) as COCO JSON');
}

init();
