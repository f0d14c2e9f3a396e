// headshot web app. Plain script, no framework, nothing loaded from elsewhere: the page talks
// only to this server's JSON API (described at /api/openapi.json).
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = { session: null, words: { reasons: {}, fixes: {}, framing: {}, rules: {} }, uses: {}, documents: [], limits: null, timer: null };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

function kb(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

async function api(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(url, init);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!r.ok) {
    const msg = data?.error?.message ?? `${r.status} ${r.statusText}`;
    const retry = r.headers.get('retry-after');
    throw new Error(retry ? `${msg}` : msg);
  }
  return data;
}

function showAlert(message) {
  const a = $('#alert');
  a.textContent = message;
  a.hidden = !message;
}

function setStatus(text, done, total) {
  $('#status').hidden = false;
  $('#status-text').textContent = text;
  const p = $('#progress');
  if (total > 0) { p.max = total; p.value = done; } else { p.removeAttribute('value'); }
}

// ---- upload ----------------------------------------------------------------------------

function upload(files) {
  const photos = [...files];
  if (!photos.length) return;
  if (state.limits && photos.length > state.limits.max_photos) {
    showAlert(`Too many photos: at most ${state.limits.max_photos} at once.`);
    return;
  }
  showAlert('');
  stopPolling();
  const form = new FormData();
  for (const f of photos) form.append('photos', f, f.name);
  form.append('background', $('#background').value);
  form.append('team', $('#team').checked ? 'true' : 'false');
  form.append('smaller_if_needed', $('#smaller').checked ? 'true' : 'false');
  const doc = $('#document').value;
  if (doc) form.append('uses', [...Object.keys(state.uses), doc].join(','));
  form.append('sheet', $('#paper').value);
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/sessions');
  xhr.responseType = 'json';
  xhr.upload.addEventListener('progress', (e) => {
    if (e.lengthComputable) setStatus(`Uploading ${photos.length} photo${photos.length > 1 ? 's' : ''}…`, e.loaded, e.total);
  });
  xhr.addEventListener('load', () => {
    if (xhr.status === 202) {
      accept(xhr.response);
    } else {
      $('#status').hidden = true;
      const msg = xhr.response?.error?.message ?? `The upload failed (${xhr.status}).`;
      showAlert(msg);
    }
  });
  xhr.addEventListener('error', () => { $('#status').hidden = true; showAlert('The upload failed: the server could not be reached.'); });
  setStatus('Uploading…', 0, 1);
  xhr.send(form);
}

function accept(session) {
  state.session = session;
  history.replaceState(null, '', `#session=${session.id}`);
  poll();
}

// ---- session polling -------------------------------------------------------------------

function stopPolling() {
  if (state.timer) clearTimeout(state.timer);
  state.timer = null;
}

async function poll() {
  stopPolling();
  const s = state.session;
  if (!s) return;
  let fresh;
  try {
    fresh = await api('GET', `/api/sessions/${s.id}`);
  } catch (e) {
    showAlert(`${e.message}`);
    forget();
    return;
  }
  state.session = fresh;
  const { done, total } = fresh.progress;
  if (fresh.state === 'queued') {
    setStatus('Waiting for the studio…', 0, total);
  } else if (fresh.state === 'running') {
    setStatus(`Analysing and rendering: ${done} of ${total} photo${total > 1 ? 's' : ''} done`, done, total);
  }
  if (fresh.state === 'queued' || fresh.state === 'running') {
    state.timer = setTimeout(poll, 600);
    return;
  }
  $('#status').hidden = true;
  if (fresh.state === 'failed') showAlert(`The session could not be rendered: ${fresh.error ?? 'unknown error'}`);
  if (fresh.report) showResults(fresh);
}

function forget() {
  state.session = null;
  history.replaceState(null, '', location.pathname);
  $('#results').hidden = true;
  $('#apply').hidden = true;
  $('#status').hidden = true;
}

// ---- results ---------------------------------------------------------------------------

function fileUrl(s, path, download) {
  const enc = path.split('/').map(encodeURIComponent).join('/');
  return `/api/sessions/${s.id}/files/${enc}?v=${s.renders}${download ? '&download=1' : ''}`;
}

function plainFacts(p) {
  const facts = [];
  if (p.people > 1) facts.push({ text: `${p.people} people`, cls: '' });
  if (p.gaze) facts.push(p.gaze === 'camera' ? { text: 'Looking at the camera', cls: 'good' } : { text: 'Looking away', cls: 'bad' });
  if (p.faces.length) facts.push(p.sharp ? { text: 'Sharp', cls: 'good' } : { text: 'Face not sharp', cls: 'bad' });
  facts.push(p.background.plain ? { text: 'Plain background', cls: 'good' } : { text: 'Busy background', cls: 'bad' });
  if (p.faces.length) facts.push(p.lighting.even ? { text: 'Even light', cls: 'good' } : { text: 'Uneven light', cls: 'bad' });
  return facts;
}

function verdictRow(v) {
  const reasons = v.reasons.map((r) => {
    const words = state.words.reasons[r] ?? r;
    return r === 'low-resolution' && v.enlarge ? `${words} (would enlarge ${v.enlarge.toFixed(1)}x)` : words;
  });
  const fixes = v.fixes.map((f) => state.words.fixes[f] ?? f);
  // A document's verdict says which rules the photo fails as it stands, with the figures.
  const failed = (v.checks ?? []).filter((c) => !c.pass && !c.warning)
    .map((c) => `${state.words.rules[c.rule] ?? c.rule} ${Number.isInteger(c.value) ? c.value : c.value.toFixed(3)} (allowed ${c.allowed})`);
  let why = failed.length ? failed.join('; ') : reasons.join(', ');
  if (fixes.length && v.status === 'fixable') why += `${why ? ' — ' : ''}we ${fixes.join(', ')}`;
  const u = state.uses[v.use];
  return el('tr', {},
    el('th', { scope: 'row' }, v.use, u ? el('span', { class: 'why', text: ` ${u.width}×${u.height}` }) : null),
    el('td', {}, el('span', { class: `badge ${v.status}`, text: v.status })),
    el('td', { class: 'why', text: v.status === 'ready' ? 'good as it is' : why }));
}

function subjectPicker(s, p, photoName, img) {
  if (p.faces.length < 2) return null;
  // Left to choose, the studio makes the outputs about the person who serves most uses: the
  // verdicts say whom, and that is the person shown as chosen.
  const chosen = s.options.subjects?.[photoName] ?? p.verdicts.find((v) => v.subject)?.subject ?? 1;
  const choose = (n) => rerender({ subjects: { ...(s.options.subjects ?? {}), [photoName]: n } });
  const faces = p.faces.slice(0, 8);
  // Numbered frames on the photo, and the same choice as buttons (for keyboards and readers).
  const overlays = faces.map((f, i) => {
    const b = el('button', {
      type: 'button', class: `face${chosen === i + 1 ? ' chosen' : ''}`, tabindex: '-1', 'aria-hidden': 'true',
      title: `Make person ${i + 1} the subject`, onclick: () => choose(i + 1),
    }, el('span', { text: String(i + 1) }));
    b.style.left = `${(100 * f.box.x) / p.width}%`;
    b.style.top = `${(100 * f.box.y) / p.height}%`;
    b.style.width = `${(100 * f.box.w) / p.width}%`;
    b.style.height = `${(100 * f.box.h) / p.height}%`;
    return b;
  });
  img.after(...overlays);
  return el('div', { class: 'subject', role: 'group', 'aria-label': 'Who this photo is about' },
    el('p', { text: 'Who is this photo about?' }),
    faces.map((_, i) => el('button', {
      type: 'button', class: 'button', 'aria-pressed': chosen === i + 1 ? 'true' : 'false', onclick: () => choose(i + 1),
    }, `Person ${i + 1}`)));
}

// The uses a photo cannot serve, with why, in one visible line (the table holds the rest).
function unsuited(p) {
  const bad = p.verdicts.filter((v) => v.status === 'unsuitable');
  if (!bad.length) return null;
  const why = bad.map((v) => `${v.use} (${v.reasons.map((r) => state.words.reasons[r] ?? r).join(', ')})`);
  return el('p', { class: 'unsuited' }, el('strong', { text: 'Not suitable for: ' }), why.join('; '));
}

// A document photo's rules as a checklist: each rule as the rendered file measures it, marked
// passed, fixed by the render (it failed on the photo as it stood), or failing, with the figures.
function checklist(p, o) {
  if (!(o.checks ?? []).length) return null;
  const before = p.verdicts.find((v) => v.use === o.use)?.checks ?? [];
  const rows = o.checks.map((c) => {
    const was = before.find((b) => b.rule === c.rule);
    const mark = !c.pass ? (c.warning ? 'warning' : 'fails') : was && !was.pass ? 'fixed' : 'pass';
    const label = { pass: 'pass', fixed: 'fix applied', fails: 'fails', warning: 'warning' }[mark];
    const value = Number.isInteger(c.value) ? String(c.value) : c.value.toFixed(3);
    return el('tr', { class: `check ${mark}` },
      el('th', { scope: 'row', text: state.words.rules[c.rule] ?? c.rule }),
      el('td', {}, el('span', { class: `badge ${mark === 'fails' ? 'unsuitable' : mark === 'pass' ? 'ready' : 'fixable'}`, text: label })),
      el('td', { class: 'why', text: `${value}${was && !was.pass ? ` (was ${Number.isInteger(was.value) ? was.value : was.value.toFixed(3)})` : ''}; allowed ${c.allowed}` }));
  });
  const ok = o.compliant ? 'Every rule passes on the file' : 'The file fails a rule';
  return el('details', { class: 'checklist', open: o.compliant ? false : true },
    el('summary', { text: `${ok} (${o.checks.filter((c) => c.pass).length} of ${o.checks.length})` }),
    el('div', { class: 'table-scroll' },
      el('table', {},
        el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Rule' }), el('th', { scope: 'col', text: 'Result' }), el('th', { scope: 'col', text: 'Measured' }))),
        el('tbody', {}, rows))));
}

function photoCard(s, p, index) {
  const name = p.path;
  const counts = { ready: 0, fixable: 0, unsuitable: 0 };
  for (const v of p.verdicts) counts[v.status] += 1;
  const img = p.preview
    ? el('img', { src: fileUrl(s, p.preview), alt: `Your photo ${name}`, width: 220 })
    : el('div', { class: 'none', text: 'No preview' });
  const figure = el('figure', { class: 'source' }, img);
  const picker = p.preview ? subjectPicker(s, p, name, img) : null;
  const outputs = (p.outputs ?? []).map((o) => el('li', {},
    el('figure', {},
      el('div', { class: 'frame' },
        el('img', { src: fileUrl(s, o.path), alt: `${o.use}: ${o.width} by ${o.height}`, class: o.circle ? 'circle' : false, loading: 'lazy' })),
      el('figcaption', {},
        el('strong', { text: o.use }),
        el('span', { text: `${o.width}×${o.height} · ${o.format.toUpperCase()} · ${kb(o.bytes)}` }),
        el('a', { href: fileUrl(s, o.path, true), download: `${name}-${o.use}`, class: 'download', 'aria-label': `Download ${o.use} for ${name}` }, 'Download'),
        o.sheet ? el('a', { href: fileUrl(s, o.sheet, true), download: `${name}-${o.use}-sheet`, class: 'download sheet', 'aria-label': `Download the print sheet of ${o.use} for ${name}` }, 'Print sheet') : null,
        checklist(p, o)))));
  return el('article', { class: 'photo panel', id: `photo-${index}`, 'aria-labelledby': `photo-${index}-title` },
    el('div', { class: 'photo-head' },
      figure,
      el('div', {},
        el('h3', { id: `photo-${index}-title`, text: name }),
        el('span', { class: 'kind', text: state.words.framing[p.framing] ?? p.framing }),
        el('ul', { class: 'facts', 'aria-label': 'What we found' }, plainFacts(p).map((f) => el('li', { class: f.cls, text: f.text }))),
        picker,
        unsuited(p),
        (p.output_errors ?? []).length ? el('p', { class: 'why', text: `Not made: ${p.output_errors.join('; ')}` }) : null)),
    el('details', { class: 'verdicts' },
      el('summary', {}, 'Verdict for every use ',
        el('span', { class: 'summary-counts', text: `(${counts.ready} ready, ${counts.fixable} fixable, ${counts.unsuitable} unsuitable)` })),
      el('div', { class: 'table-scroll' },
        el('table', {},
          el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Use' }), el('th', { scope: 'col', text: 'Verdict' }), el('th', { scope: 'col', text: 'Why' }))),
          el('tbody', {}, p.verdicts.map(verdictRow))))),
    el('h4', { text: outputs.length ? `${outputs.length} outputs` : 'Outputs' }),
    outputs.length ? el('ul', { class: 'outputs' }, outputs) : el('p', { class: 'none', text: 'This photo is not suitable for any use, so nothing was made. The verdicts above say why.' }));
}

function showResults(s) {
  const r = s.report;
  $('#results').hidden = false;
  $('#apply').hidden = false;
  $('#background').value = s.options.background ?? 'auto';
  $('#team').checked = !!s.options.team;
  $('#smaller').checked = !!s.options.smaller_if_needed;
  $('#document').value = (s.options.uses ?? []).find((u) => state.documents.some((d) => d.name === u)) ?? '';
  $('#paper').value = s.options.sheet ?? '4x6';
  const zip = $('#zip');
  const any = r.photos.some((p) => (p.outputs ?? []).length);
  zip.href = `/api/sessions/${s.id}/download.zip?v=${s.renders}`;
  zip.setAttribute('aria-disabled', any ? 'false' : 'true');
  const errors = $('#errors');
  errors.replaceChildren(...r.errors.map((e) => el('li', { text: `${e.path}: ${e.error}` })));
  errors.hidden = r.errors.length === 0;
  $('#photos').replaceChildren(...r.photos.map((p, i) => photoCard(s, p, i)));
}

async function rerender(changes) {
  const s = state.session;
  if (!s) return;
  showAlert('');
  try {
    state.session = await api('POST', `/api/sessions/${s.id}/render`, changes);
    setStatus('Rendering again…', 0, s.photos.length);
    poll();
  } catch (e) {
    showAlert(e.message);
  }
}

// ---- wiring ----------------------------------------------------------------------------

function wire() {
  const drop = $('#drop');
  const files = $('#files');
  files.addEventListener('change', () => { upload(files.files); files.value = ''; });
  for (const ev of ['dragenter', 'dragover']) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); upload(e.dataTransfer.files); });
  // A photo dropped beside the zone must not make the browser navigate away to it.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  $('#apply').addEventListener('click', () => {
    // A document photo is made beside every other use, not instead of them.
    const doc = $('#document').value;
    const uses = doc ? [...Object.keys(state.uses), doc] : [];
    rerender({
      background: $('#background').value, team: $('#team').checked, smaller_if_needed: $('#smaller').checked,
      uses, sheet: $('#paper').value,
    });
  });
  $('#restart').addEventListener('click', async () => {
    const s = state.session;
    stopPolling();
    if (s) { try { await api('DELETE', `/api/sessions/${s.id}`); } catch { /* already gone */ } }
    forget();
    showAlert('');
    $('#files').focus();
  });
}

async function start() {
  wire();
  try {
    const [words, uses, limits] = await Promise.all([api('GET', '/api/vocabulary'), api('GET', '/api/uses'), api('GET', '/api/limits')]);
    state.words = words;
    for (const u of uses.uses) state.uses[u.name] = u;
    state.documents = uses.documents ?? [];
    for (const d of state.documents) {
      const print = d.document.print_mm ? `${d.document.print_mm[0]} × ${d.document.print_mm[1]} mm` : `${d.width} × ${d.height} px upload`;
      $('#document').append(el('option', { value: d.name, text: `${d.name} (${print})` }));
    }
    state.limits = limits;
    $('#limits').textContent = `JPEG, PNG, WebP, HEIC, AVIF or TIFF · up to ${limits.max_photos} photos, ${kb(limits.max_photo_bytes)} each`;
    const hours = Math.round(limits.keep_seconds / 3600);
    $('#keep').textContent = hours >= 48 ? `${Math.round(hours / 24)} days` : hours >= 1 ? `${hours} hour${hours > 1 ? 's' : ''}` : `${Math.round(limits.keep_seconds / 60)} minutes`;
  } catch (e) {
    showAlert(`The server did not answer: ${e.message}`);
  }
  const m = location.hash.match(/session=([0-9a-f]{32})/);
  if (m) {
    state.session = { id: m[1], progress: { done: 0, total: 0 } };
    poll();
  }
}

document.addEventListener('DOMContentLoaded', start);
