// A bounded load run of the web app on loopback, as a team's morning would be: CLIENTS polite
// clients for SECONDS, each uploading a photo, polling until done and downloading an output
// (honouring 429/503 + Retry-After), mixed with hostile ones: uploads aborted halfway, clients
// that send half their headers and stall, and renders asked for twice at once. Starts `headshot
// serve` with a fresh data folder and stops by itself. Reports throughput, p50/p95/p99 latency
// per endpoint, every answer by kind, the server's peak memory (VmHWM) and the data folder's
// peak size. Exits 1 if any answer was an error other than backpressure (429, 503, a 409 for
// the second of two renders at once) or the server died.
//
//   node tools/bench/load.mjs HEADSHOT_BINARY PHOTO [--clients 50] [--seconds 60] [--workers 1]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : dflt; };
const [bin, photoPath] = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
if (!bin || !photoPath) {
  console.error('usage: node load.mjs HEADSHOT_BINARY PHOTO [--clients N] [--seconds S] [--workers W]');
  process.exit(2);
}
const clients = opt('clients', 50);
const seconds = opt('seconds', 60);
const workers = opt('workers', 1);

const data = mkdtempSync(join(tmpdir(), 'headshot-load-'));
const server = spawn(resolve(bin), ['serve', '--addr', '127.0.0.1:0', '--data', data, '--workers', String(workers)],
  { stdio: ['ignore', 'ignore', 'pipe'] });
let serverExit = null;
server.on('exit', (c, s) => { serverExit = `${c ?? s}`; });
const base = await new Promise((ok, fail) => {
  let seen = '';
  server.stderr.on('data', (b) => { seen += b; const m = seen.match(/serving on (http:\/\/[0-9.:]+\/)/); if (m) ok(m[1]); });
  server.on('exit', (c) => fail(new Error(`server exited ${c}: ${seen}`)));
});
const { port } = new URL(base);

// Peak memory and disk, sampled.
let peakKb = 0;
let peakDisk = 0;
const folderSize = (dir) => {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    try { total += e.isDirectory() ? folderSize(p) : statSync(p).size; } catch { /* removed meanwhile */ }
  }
  return total;
};
const sampler = setInterval(() => {
  try {
    const m = readFileSync(`/proc/${server.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/);
    if (m) peakKb = Math.max(peakKb, Number(m[1]));
    peakDisk = Math.max(peakDisk, folderSize(data));
  } catch { /* gone */ }
}, 250);

const photo = readFileSync(photoPath);
const latency = new Map(); // endpoint -> [ms]
const answers = new Map(); // "endpoint status code" -> count
const bad = [];
const note = (endpoint, ms, status, code) => {
  if (!latency.has(endpoint)) latency.set(endpoint, []);
  latency.get(endpoint).push(ms);
  const key = `${endpoint} ${status}${code ? ` ${code}` : ''}`;
  answers.set(key, (answers.get(key) ?? 0) + 1);
};
const backpressure = (status) => status === 429 || status === 503;

async function call(endpoint, url, init = {}) {
  const t = performance.now();
  try {
    const r = await fetch(url, init);
    const body = Buffer.from(await r.arrayBuffer());
    let code = '';
    if (r.status >= 400) { try { code = JSON.parse(body).error.code; } catch { code = 'not-json'; } }
    note(endpoint, performance.now() - t, r.status, code);
    return { r, body };
  } catch (e) {
    if (e.name === 'AbortError') { note(endpoint, performance.now() - t, 'aborted', ''); return null; }
    note(endpoint, performance.now() - t, 'network', e.cause?.code ?? e.message);
    bad.push(`${endpoint}: ${e.cause?.code ?? e.message}`);
    return null;
  }
}
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const deadline = performance.now() + seconds * 1000;
const running = () => performance.now() < deadline && serverExit === null;
let sessionsDone = 0;
const sessionMs = [];

function uploadForm() {
  const form = new FormData();
  form.append('photos', new Blob([photo]), basename(photoPath));
  return form;
}

// A polite client: upload, poll, download one output, sometimes a double render, delete.
async function polite(i) {
  while (running()) {
    const started = performance.now();
    const up = await call('POST /api/sessions', `${base}api/sessions`, { method: 'POST', body: uploadForm() });
    if (!up) continue;
    if (backpressure(up.r.status)) { await sleep(1000 * Number(up.r.headers.get('retry-after') ?? '1')); continue; }
    if (up.r.status !== 202) { bad.push(`client ${i}: upload ${up.r.status} ${up.body}`); return; }
    const id = JSON.parse(up.body).id;
    let s = null;
    while (serverExit === null) {
      const got = await call('GET /api/sessions/{id}', `${base}api/sessions/${id}`);
      if (!got) break;
      if (got.r.status !== 200) { bad.push(`client ${i}: poll ${got.r.status}`); break; }
      s = JSON.parse(got.body);
      if (s.state === 'done' || s.state === 'failed') break;
      await sleep(250);
    }
    if (!s || s.state !== 'done') { if (s) bad.push(`client ${i}: session ${s.state} ${s.error ?? ''}`); continue; }
    sessionMs.push(performance.now() - started);
    sessionsDone += 1;
    const out = s.report.photos[0]?.outputs?.find((o) => o.use === 'linkedin');
    if (out) {
      const got = await call('GET /files/{path}', `${base}api/sessions/${id}/files/${out.path}`);
      if (got && (got.r.status !== 200 || got.body.length !== out.bytes)) bad.push(`client ${i}: download ${got.r.status} ${got.body.length}`);
    }
    if (i % 5 === 0 && running()) {
      // A double click on render: one is queued, the other is told it is rendering (409).
      const render = () => call('POST /render', `${base}api/sessions/${id}/render`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"background":"white"}' });
      const both = await Promise.all([render(), render()]);
      const statuses = both.filter(Boolean).map((x) => x.r.status).sort();
      const ok = statuses.filter((st) => st === 202).length <= 1;
      if (!ok) bad.push(`client ${i}: double render queued twice: ${statuses}`);
      while (serverExit === null) {
        const got = await call('GET /api/sessions/{id}', `${base}api/sessions/${id}`);
        if (!got || got.r.status !== 200) break;
        const st = JSON.parse(got.body).state;
        if (st === 'done' || st === 'failed') break;
        await sleep(250);
      }
    }
    await call('DELETE /api/sessions/{id}', `${base}api/sessions/${id}`, { method: 'DELETE' });
  }
}

// An upload aborted halfway through its body.
async function aborter() {
  while (running()) {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 5 + Math.random() * 30);
    await call('POST /api/sessions', `${base}api/sessions`, { method: 'POST', body: uploadForm(), signal: ac.signal });
    await sleep(200);
  }
}

// A client that sends half its headers and stalls: the server must close the connection.
let slowClosed = 0;
let slowOpened = 0;
async function slowHeaders() {
  while (running()) {
    slowOpened += 1;
    const t = performance.now();
    await new Promise((ok) => {
      const sock = connect(Number(port), '127.0.0.1', () => sock.write('GET /api/uses HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
      sock.on('close', () => { slowClosed += 1; note('slow headers (closed by server)', performance.now() - t, 'closed', ''); ok(); });
      sock.on('error', () => {});
      sock.setTimeout(60_000, () => { bad.push('a slow-headers client was never cut off'); sock.destroy(); });
    });
  }
}

const t0 = performance.now();
await Promise.all([
  ...Array.from({ length: clients }, (_, i) => polite(i)),
  aborter(), aborter(),
  slowHeaders(), slowHeaders(),
]);
const wall = (performance.now() - t0) / 1000;
clearInterval(sampler);
const alive = serverExit === null;
server.kill('SIGTERM');
await new Promise((ok) => (serverExit !== null ? ok() : server.on('exit', ok)));
const leftStaged = (() => { try { return readdirSync(join(data, 'uploads')).length; } catch { return 0; } })();
rmSync(data, { recursive: true, force: true });

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN; };
const ms = (x) => (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(1)} ms`);
console.log(`load: ${clients} clients + 2 aborting uploads + 2 slow-headers clients for ${seconds} s; ${basename(photoPath)} (${(photo.length / 1024).toFixed(0)} KB); ${workers} worker(s)`);
console.log(`  sessions done: ${sessionsDone} in ${wall.toFixed(1)} s (${(sessionsDone / wall).toFixed(2)}/s); upload -> done p50 ${ms(pct(sessionMs, 0.5))}, p95 ${ms(pct(sessionMs, 0.95))}, p99 ${ms(pct(sessionMs, 0.99))}`);
for (const [endpoint, xs] of [...latency].sort()) {
  console.log(`  ${endpoint.padEnd(34)} n=${String(xs.length).padStart(5)}  p50 ${ms(pct(xs, 0.5)).padStart(9)}  p95 ${ms(pct(xs, 0.95)).padStart(9)}  p99 ${ms(pct(xs, 0.99)).padStart(9)}`);
}
console.log('  answers by kind:');
for (const [k, n] of [...answers].sort()) console.log(`    ${k}: ${n}`);
console.log(`  slow-headers connections closed by the server: ${slowClosed} of ${slowOpened}`);
console.log(`  server peak memory (VmHWM): ${(peakKb / 1024).toFixed(0)} MiB; data folder peak: ${(peakDisk / 1048576).toFixed(1)} MiB; staging folders left: ${leftStaged}`);
if (!alive) bad.push(`the server died (${serverExit})`);
if (leftStaged > 0) bad.push(`${leftStaged} staging folder(s) left behind`);
for (const e of bad.slice(0, 20)) console.log(`  error: ${e}`);
console.log(bad.length ? `load: ${bad.length} error(s) beyond backpressure` : 'load: no errors beyond backpressure');
process.exit(bad.length ? 1 : 0);
