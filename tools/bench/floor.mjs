// The floor for headshot's studio: the same output files (size, format, JPEG quality) made by
// libvips through sharp, with no analysis, no matte and no background: only decode, resize
// (cover crop, Lanczos) and encode. Two ways a person would script it; the faster is the floor.
//   a) each output straight from the file (sharp decodes per output, shrinking on load);
//   b) decode once to pixels, then resize and encode each output from them.
//
//   node floor.mjs INPUT.jpg JOBS.json [RUNS]      (JOBS.json: written by the studio_bench example)
import sharp from 'sharp';
import { readFileSync } from 'node:fs';

const [input, jobsPath, runsArg] = process.argv.slice(2);
if (!input || !jobsPath) {
  console.error('usage: node floor.mjs INPUT.jpg JOBS.json [RUNS]');
  process.exit(2);
}
const jobs = JSON.parse(readFileSync(jobsPath, 'utf8'));
const runs = Number(runsArg ?? 3);
// One core, like the studio figure it is compared with.
sharp.concurrency(Number(process.env.THREADS ?? 1));
sharp.cache(false);

const encode = (img, j) => {
  if (j.format === 'png') return img.png({ compressionLevel: 6 });
  if (j.format === 'webp') return img.webp({ lossless: true });
  const q = j.quality ?? 85;
  return img.jpeg({ quality: q, chromaSubsampling: q >= 90 ? '4:4:4' : '4:2:0', optimiseCoding: true, mozjpeg: false });
};
const resize = (img, j) => img.resize(j.width, j.height, { fit: 'cover', kernel: 'lanczos3' });

async function fromFile() {
  for (const j of jobs) await encode(resize(sharp(input), j), j).toBuffer();
}
async function decodeOnce() {
  const { data, info } = await sharp(input).raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  for (const j of jobs) await encode(resize(sharp(data, raw), j), j).toBuffer();
}

async function time(f) {
  await f(); // warm-up
  const t = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await f();
  return Number(process.hrtime.bigint() - t) / 1e6 / runs;
}
const a = await time(fromFile);
const b = await time(decodeOnce);
console.log(`floor (libvips ${sharp.versions.vips}, ${jobs.length} outputs, mean of ${runs}): ` +
  `from file per output ${a.toFixed(1)} ms, decode once ${b.toFixed(1)} ms; floor ${Math.min(a, b).toFixed(1)} ms`);
