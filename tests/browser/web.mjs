// End-to-end check of the web app in a real browser: starts `headshot serve` on loopback with a
// fresh data folder, opens the page in Debian's Chromium (playwright-core), drops two photos on
// the drop zone as a person would, waits for the gallery, checks the verdict badges against the
// API's report, picks the other person in the group photo, downloads one output and checks its
// bytes, and saves screenshots (desktop and phone width) for a human to look at.
//
//   node web.mjs HEADSHOT_BINARY PHOTO_DIR [SCREENSHOT_DIR]
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const [bin, photoDir, shotDir = tmpdir()] = process.argv.slice(2);
if (!bin || !photoDir) {
  console.error('usage: node web.mjs HEADSHOT_BINARY PHOTO_DIR [SCREENSHOT_DIR]');
  process.exit(2);
}
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const watchdog = setTimeout(() => { console.error('web: timed out'); process.exit(1); }, 300_000);
watchdog.unref();

// The server, on a port the system picks; its first line on stderr says where.
const data = mkdtempSync(join(tmpdir(), 'headshot-web-'));
const server = spawn(resolve(bin), ['serve', '--addr', '127.0.0.1:0', '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
const base = await new Promise((ok, fail) => {
  let seen = '';
  server.stderr.on('data', (b) => {
    seen += b;
    const m = seen.match(/serving on (http:\/\/[0-9.:]+\/)/);
    if (m) ok(m[1]);
  });
  server.on('exit', (code) => fail(new Error(`server exited (${code}): ${seen}`)));
});
console.log(`web: server at ${base}`);

const profile = mkdtempSync(join(tmpdir(), 'headshot-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  acceptDownloads: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') failures.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith(base)) failures.push(`request outside the server: ${r.url()}`); });
  await page.goto(base, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('#limits').textContent.includes('up to'));

  // Every control has a name a screen reader can say.
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, button')]
    .filter((e) => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim() || e.getAttribute('aria-hidden') === 'true'))
    .map((e) => e.outerHTML.slice(0, 80)));
  check(unlabelled.length === 0, `controls without a label: ${unlabelled.join(' | ')}`);
  // The drop zone can be reached with the keyboard.
  await page.focus('#files');
  check(await page.evaluate(() => document.activeElement?.id === 'files'), 'the file chooser cannot take focus');

  // Drop three photos, exactly as a drag from the desktop arrives: a drop event carrying files.
  const names = ['obama.jpg', 'two_people.jpg', 'grace_hopper.jpg'];
  const files = names.map((n) => ({ name: n, type: 'image/jpeg', b64: readFileSync(join(photoDir, n)).toString('base64') }));
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    const zone = document.querySelector('#drop');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }
  }, files);

  await page.waitForSelector('article.photo', { timeout: 240_000 });
  const id = await page.evaluate(() => location.hash.match(/session=([0-9a-f]{32})/)?.[1]);
  check(!!id, 'the page did not record the session in its address');
  const report = await (await fetch(`${base}api/sessions/${id}/report`)).json();

  const seen = async () => page.evaluate(() => [...document.querySelectorAll('article.photo')].map((a) => ({
    title: a.querySelector('h3').textContent,
    kind: a.querySelector('.kind').textContent,
    badges: [...a.querySelectorAll('tbody .badge')].map((b) => b.textContent),
    reasons: [...a.querySelectorAll('tbody td.why')].map((b) => b.textContent),
    outputs: a.querySelectorAll('.outputs img').length,
    circles: a.querySelectorAll('.outputs img.circle').length,
    people: a.querySelectorAll('.subject button').length,
  })));
  const cards = await seen();
  check(cards.length === 3, `${cards.length} photo cards for 3 photos`);
  for (const [i, p] of report.photos.entries()) {
    const c = cards[i] ?? {};
    check(c.title === p.path, `card ${i} is titled ${c.title}, the report says ${p.path}`);
    check(JSON.stringify(c.badges) === JSON.stringify(p.verdicts.map((v) => v.status)),
      `${p.path}: badges ${c.badges} differ from the report's verdicts`);
    check(c.outputs === (p.outputs ?? []).length, `${p.path}: ${c.outputs} output images for ${(p.outputs ?? []).length} outputs`);
    check(c.circles === (p.outputs ?? []).filter((o) => o.circle).length, `${p.path}: circle previews do not match circle uses`);
    check(c.kind !== p.framing && c.kind.length > 0, `${p.path}: class shown as a code (${c.kind}), not in words`);
    for (const r of c.reasons) check(!/[a-z]+-[a-z]+-/.test(r), `${p.path}: reason shown as a code: ${r}`);
  }
  const group = report.photos.findIndex((p) => p.people > 1);
  check(group >= 0 && cards[group].people >= 2, 'the group photo offers no choice of subject');

  // Every image the page shows decodes.
  await page.evaluate(() => document.querySelectorAll('img[loading=lazy]').forEach((i) => { i.loading = 'eager'; }));
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), null, { timeout: 60_000 });
  const broken = await page.evaluate(() => [...document.images].filter((i) => i.naturalWidth === 0).map((i) => i.getAttribute('src')));
  check(broken.length === 0, `images that did not decode: ${broken.join(', ')}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, `page is ${overflow}px wider than the window`);
  await page.screenshot({ path: join(shotDir, 'web.png'), fullPage: true });

  // Download one output as a person would: the first card's first Download link.
  const first = report.photos.find((p) => (p.outputs ?? []).length);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('article.photo a.download').first().click(),
  ]);
  const saved = join(profile, 'downloaded');
  await download.saveAs(saved);
  const bytes = readFileSync(saved);
  const want = first.outputs[0];
  check(bytes.length === want.bytes, `downloaded ${bytes.length} bytes, the report says ${want.bytes}`);
  if (want.format === 'jpeg') check(bytes[0] === 0xff && bytes[1] === 0xd8, 'the download is not a JPEG');
  console.log(`web: downloaded ${download.suggestedFilename()} (${bytes.length} bytes)`);

  // Pick the second person of the group photo: the session renders again around them.
  if (group >= 0) {
    const before = (await (await fetch(`${base}api/sessions/${id}`)).json()).renders;
    // The person the outputs are not about yet (the studio chose one; the page shows whom).
    const buttons = page.locator(`#photo-${group} .subject button`);
    const pressed = await buttons.evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-pressed') === 'true'));
    check(pressed.filter(Boolean).length === 1, `the group photo shows ${pressed.filter(Boolean).length} people as chosen`);
    const other = pressed.findIndex((p) => !p);
    await buttons.nth(other).click();
    await page.waitForFunction(async ([id, before]) => {
      const s = await (await fetch(`/api/sessions/${id}`)).json();
      return s.state === 'done' && s.renders > before;
    }, [id, before], { timeout: 240_000, polling: 500 });
    await page.waitForSelector(`#photo-${group} .subject button[aria-pressed="true"]:nth-of-type(${other + 1})`, { timeout: 30_000 });
    const after = await (await fetch(`${base}api/sessions/${id}`)).json();
    const name = report.photos[group].path;
    check(after.options.subjects[name] === other + 1, `subject not recorded: ${JSON.stringify(after.options.subjects)}`);
    const a0 = report.photos[group].outputs?.[0];
    const a1 = after.report.photos[group].outputs?.[0];
    check(!a0 || !a1 || a0.bytes !== a1.bytes, 'the output did not change with the other subject');
  }

  // A passport photo beside the other outputs, asked for on the page: each photo gets its
  // verdict with the rules it fails as it stands, the made file its checklist (one row per rule
  // the report lists), and the print sheet downloads as a 300 dpi JPEG.
  {
    await page.selectOption('#document', 'passport-uk');
    await page.click('#apply');
    // Done once the report has the new use's verdicts (the request's own reply is the session
    // as queued).
    await page.waitForFunction(async (id) => {
      const s = await (await fetch(`/api/sessions/${id}`)).json();
      return s.state === 'done' && s.report?.photos.some((p) => p.verdicts.some((v) => v.use === 'passport-uk'));
    }, id, { timeout: 240_000, polling: 500 });
    await page.waitForSelector('tbody th:has-text("passport-uk")', { timeout: 30_000, state: 'attached' });
    const after = await (await fetch(`${base}api/sessions/${id}`)).json();
    check(after.options.uses.includes('passport-uk'), `passport-uk not asked for: ${JSON.stringify(after.options.uses)}`);
    const made = after.report.photos.flatMap((p, i) => (p.outputs ?? []).filter((o) => o.use === 'passport-uk').map((o) => ({ i, o })));
    check(made.length >= 1, 'no passport-uk output was made');
    if (made.length) {
      const { i, o } = made[0];
      await page.waitForSelector(`#photo-${i} details.checklist`, { timeout: 30_000 });
      const rows = await page.locator(`#photo-${i} details.checklist tr.check`).count();
      check(rows === o.checks.length, `checklist shows ${rows} rules, the report lists ${o.checks.length}`);
      const marks = await page.locator(`#photo-${i} details.checklist tr.check .badge`).allTextContents();
      check(marks.every((m) => ['pass', 'fix applied', 'fails', 'warning'].includes(m)), `checklist marks: ${marks}`);
      check(marks.includes('fix applied'), 'the checklist shows no rule the render mended');
      const [sheet] = await Promise.all([page.waitForEvent('download'), page.locator(`#photo-${i} a.sheet`).first().click()]);
      const sheetPath = join(profile, 'sheet');
      await sheet.saveAs(sheetPath);
      const sb = readFileSync(sheetPath);
      check(sb[0] === 0xff && sb[1] === 0xd8 && sb.toString('latin1', 6, 10) === 'JFIF' && sb[13] === 1 && sb.readUInt16BE(14) === 300,
        'the print sheet is not a 300 dpi JPEG');
      console.log(`web: passport-uk checklist of ${rows} rules, print sheet ${sb.length} bytes`);
    }
    const docRow = await page.evaluate(() => [...document.querySelectorAll('tbody tr')].some((r) => r.querySelector('th')?.textContent.startsWith('passport-uk')));
    check(docRow, 'the verdict table has no passport-uk row');
    await page.screenshot({ path: join(shotDir, 'web-passport.png'), fullPage: true });
  }

  // A phone: nothing spills sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  const narrow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(narrow <= 0, `on a phone the page is ${narrow}px wider than the screen`);
  await page.screenshot({ path: join(shotDir, 'web-phone.png'), fullPage: false });
  console.log(`web: ${cards.length} photos, badges ${cards.map((c) => c.badges.length).join('+')}, outputs ${cards.map((c) => c.outputs).join('+')}; screenshots in ${shotDir}`);
} finally {
  await context.close();
  server.kill('SIGTERM');
  rmSync(profile, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
}
if (failures.length) {
  for (const f of failures) console.error(`web: ${f}`);
  process.exit(1);
}
