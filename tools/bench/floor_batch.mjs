// The floor for a whole studio run: every output listed in headshot's report.json (size,
// format, JPEG quality) made again by libvips through sharp, from the same photos, with no
// analysis, matte or background: decode once, then cover-crop, resize (Lanczos) and encode each
// output, written to OUTDIR. THREADS photos at a time, libvips on THREADS threads.
//
//   THREADS=1 node floor_batch.mjs REPORT.json OUTDIR
import sharp from 'sharp';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [reportPath, outDir] = process.argv.slice(2);
if (!reportPath || !outDir) {
  console.error('usage: THREADS=N node floor_batch.mjs REPORT.json OUTDIR');
  process.exit(2);
}
const threads = Number(process.env.THREADS ?? 1);
sharp.concurrency(threads);
sharp.cache(false);
const report = JSON.parse(readFileSync(reportPath, 'utf8'));

const encode = (img, o) => {
  if (o.format === 'png') return img.png({ compressionLevel: 6 });
  if (o.format === 'webp') return img.webp({ lossless: true });
  const q = o.quality ?? 85;
  return img.jpeg({ quality: q, chromaSubsampling: q >= 90 ? '4:4:4' : '4:2:0', optimiseCoding: true, mozjpeg: false });
};

async function one(p, i) {
  const dir = join(outDir, String(i));
  mkdirSync(dir, { recursive: true });
  const { data, info } = await sharp(p.path).rotate().raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  for (const o of p.outputs ?? []) {
    const buf = await encode(sharp(data, raw).resize(o.width, o.height, { fit: 'cover', kernel: 'lanczos3' }), o).toBuffer();
    writeFileSync(join(dir, `${o.use}.${o.format === 'jpeg' ? 'jpg' : o.format}`), buf);
  }
  return (p.outputs ?? []).length;
}

const queue = report.photos.map((p, i) => [p, i]);
let outputs = 0;
await Promise.all(Array.from({ length: threads }, async () => {
  for (let job = queue.shift(); job; job = queue.shift()) outputs += await one(...job);
}));
console.log(`floor: ${report.photos.length} photos, ${outputs} outputs (libvips ${sharp.versions.vips})`);
