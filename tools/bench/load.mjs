// A short load run of the web app on loopback: N sessions at once, each uploading photos,
// polling until done and downloading one output, as the page does. Starts `headshot serve` with
// a fresh data folder, honours 503 + Retry-After like a polite client, and reports throughput,
// latency percentiles (session: upload to done; API: each request), errors, and the server's
// peak memory (VmHWM).
//
//   node tools/bench/load.mjs HEADSHOT_BINARY PHOTO [SESSIONS=20] [WORKERS=1]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const [bin, photoPath, n = '20', workers = '1'] = process.argv.slice(2);
if (!bin || !photoPath) {
  console.error('usage: node load.mjs HEADSHOT_BINARY PHOTO [SESSIONS] [WORKERS]');
  process.exit(2);
}
const sessions = Number(n);
const data = mkdtempSync(join(tmpdir(), 'headshot-load-'));
const server = spawn(resolve(bin), ['serve', '--addr', '127.0.0.1:0', '--data', data, '--workers', workers],
  { stdio: ['ignore', 'ignore', 'pipe'] });
const base = await new Promise((ok, fail) => {
  let seen = '';
  server.stderr.on('data', (b) => { seen += b; const m = seen.match(/serving on (http:\/\/[0-9.:]+\/)/); if (m) ok(m[1]); });
  server.on('exit', (c) => fail(new Error(`server exited ${c}: ${seen}`)));
});

let peakKb = 0;
const sampler = setInterval(() => {
  try {
    const m = readFileSync(`/proc/${server.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/);
    if (m) peakKb = Math.max(peakKb, Number(m[1]));
  } catch { /* gone */ }
}, 100);

const photo = readFileSync(photoPath);
const requestMs = [];
const errors = [];
let refusals = 0;
async function timed(url, init) {
  const t = performance.now();
  const r = await fetch(url, init);
  const body = Buffer.from(await r.arrayBuffer());
  requestMs.push(performance.now() - t);
  return { r, body };
}

async function one(i) {
  const started = performance.now();
  let created;
  for (;;) {
    const form = new FormData();
    form.append('photos', new Blob([photo]), basename(photoPath));
    const { r, body } = await timed(`${base}api/sessions`, { method: 'POST', body: form });
    if (r.status === 503) {
      refusals += 1;
      const wait = Number(r.headers.get('retry-after') ?? '1');
      await new Promise((ok) => setTimeout(ok, wait * 1000));
      continue;
    }
    if (r.status !== 202) { errors.push(`session ${i}: upload ${r.status} ${body}`); return null; }
    created = JSON.parse(body);
    break;
  }
  let s;
  for (;;) {
    const { r, body } = await timed(`${base}api/sessions/${created.id}`);
    if (r.status !== 200) { errors.push(`session ${i}: poll ${r.status}`); return null; }
    s = JSON.parse(body);
    if (s.state === 'done' || s.state === 'failed') break;
    await new Promise((ok) => setTimeout(ok, 250));
  }
  if (s.state !== 'done') { errors.push(`session ${i}: ${s.error}`); return null; }
  const out = s.report.photos[0]?.outputs?.find((o) => o.use === 'linkedin');
  if (out) {
    const { r, body } = await timed(`${base}api/sessions/${s.id}/files/${out.path}`);
    if (r.status !== 200 || body.length !== out.bytes) errors.push(`session ${i}: download ${r.status} ${body.length}`);
  }
  return performance.now() - started;
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN; };
const t0 = performance.now();
const lat = (await Promise.all(Array.from({ length: sessions }, (_, i) => one(i)))).filter((x) => x !== null);
const wall = (performance.now() - t0) / 1000;
clearInterval(sampler);
server.kill('SIGTERM');
await new Promise((ok) => server.on('exit', ok));
rmSync(data, { recursive: true, force: true });

console.log(`load: ${sessions} concurrent sessions of ${basename(photoPath)} (${(photo.length / 1024).toFixed(0)} KB), ${workers} worker(s)`);
console.log(`  done ${lat.length}/${sessions} in ${wall.toFixed(1)} s: ${(lat.length / wall).toFixed(2)} sessions/s`);
console.log(`  session latency (upload -> done): p50 ${(pct(lat, 0.5) / 1000).toFixed(1)} s, p95 ${(pct(lat, 0.95) / 1000).toFixed(1)} s`);
console.log(`  API requests: ${requestMs.length}, p50 ${pct(requestMs, 0.5).toFixed(1)} ms, p95 ${pct(requestMs, 0.95).toFixed(1)} ms, max ${Math.max(...requestMs).toFixed(1)} ms`);
console.log(`  503 busy answers (retried after Retry-After): ${refusals}; errors: ${errors.length}`);
console.log(`  server peak memory (VmHWM): ${(peakKb / 1024).toFixed(0)} MiB`);
for (const e of errors.slice(0, 10)) console.log(`  error: ${e}`);
process.exit(errors.length ? 1 : 0);
