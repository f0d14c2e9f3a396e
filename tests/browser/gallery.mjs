// Opens a studio run's gallery (DIR/index.html) from disk in Debian's Chromium and checks what a
// person would see: one card per photo in report.json, every output image and the contact sheet
// actually decoded by the browser, no errors on the console, and a layout that does not spill
// sideways. Writes a full-page screenshot beside the gallery for a human to look at.
//
//   node gallery.mjs DIR [SCREENSHOT.png]
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node gallery.mjs DIR [SCREENSHOT.png]');
  process.exit(2);
}
const shot = process.argv[3] ?? resolve(dir, 'gallery.png');
const report = JSON.parse(readFileSync(resolve(dir, 'report.json'), 'utf8'));

// Flags: this machine's network is closed, and Chromium's background services otherwise
// try to reach out at every start.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const failures = [];
// Never hang: a run that takes this long has failed.
const watchdog = setTimeout(() => { console.error('gallery: timed out'); process.exit(1); }, 120_000);
watchdog.unref();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error') failures.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  await page.goto(pathToFileURL(resolve(dir, 'index.html')).href, { waitUntil: 'load' });
  // The gallery loads its images lazily, as they scroll into view; here every one is wanted.
  await page.evaluate(() => document.querySelectorAll('img[loading=lazy]').forEach((i) => { i.loading = 'eager'; }));
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), null, { timeout: 60_000 });
  const seen = await page.evaluate(() => ({
    cards: document.querySelectorAll('article.card').length,
    images: [...document.images].map((i) => ({ src: i.getAttribute('src'), w: i.naturalWidth, shown: i.getBoundingClientRect().width })),
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    title: document.title,
  }));
  if (seen.cards !== report.photos.length) failures.push(`${seen.cards} cards for ${report.photos.length} photos`);
  const shown = new Set(seen.images.map((i) => i.src));
  for (const p of report.photos) {
    for (const o of p.outputs ?? []) {
      if (!shown.has(o.path)) failures.push(`output not shown: ${o.path}`);
    }
  }
  for (const i of seen.images) {
    if (i.w === 0) failures.push(`image did not decode: ${i.src}`);
    if (i.shown === 0) failures.push(`image has no size on the page: ${i.src}`);
  }
  if (!shown.has('contact-sheet.jpg')) failures.push('no contact sheet');
  if (seen.overflow > 0) failures.push(`page is ${seen.overflow}px wider than the window`);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`gallery: ${seen.cards} photos, ${seen.images.length} images decoded, title "${seen.title}", screenshot ${shot}`);
} finally {
  await browser.close();
}
if (failures.length) {
  for (const f of failures) console.error(`gallery: ${f}`);
  process.exit(1);
}
