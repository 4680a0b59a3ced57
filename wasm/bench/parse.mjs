// Manifest parse speed in headless Chromium: Playhead's WebAssembly build against hls.js,
// dash.js and Shaka Player (this package's pinned devDependencies), each parsing the same
// manifests to its own model, in one page and one run (page.js does the timing).
//
// Usage: node wasm/bench/parse.mjs --dir DIR [--runs N] [--warmup N] [--json PATH] [--pkg DIR]
//   --dir: manifests (*.m3u8, *.mpd; `cargo xtask manifests --out DIR` writes the reference
//   six, with an index.tsv of descriptions). --pkg: a wasm-pack `--target web` output
//   (default wasm/dist, which `cargo xtask web` builds), to compare builds. Prints a
//   markdown table; never judges the times. Exits non-zero only when a parser throws or the
//   page fails.

import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launch, serve, PKG, ROOT } from '../tests/harness.mjs';

const { values: opts } = parseArgs({
  options: {
    dir: { type: 'string' },
    runs: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    json: { type: 'string' },
    pkg: { type: 'string', default: join(PKG, 'dist') },
  },
});
const runs = Number(opts.runs);
const warmup = Number(opts.warmup);
if (!opts.dir || !(runs >= 1) || !(warmup >= 1)) {
  console.error('usage: node wasm/bench/parse.mjs --dir DIR [--runs N>=1] [--warmup N>=1] [--json PATH] [--pkg DIR]');
  process.exit(2);
}
if (!existsSync(join(opts.pkg, 'playhead_wasm_bg.wasm'))) {
  console.error(`parse bench: no package in ${opts.pkg}: run \`cargo xtask web\` first`);
  process.exit(2);
}

const files = readdirSync(opts.dir).filter((f) => /\.(m3u8|mpd)$/.test(f)).sort();
const index = join(opts.dir, 'index.tsv');
const describe = new Map(existsSync(index)
  ? readFileSync(index, 'utf8').trim().split('\n').map((l) => l.split('\t'))
  : []);

/** Each player's file as its npm entry point resolves for `import` (Shaka: its `main`). */
const entry = (name) => fileURLToPath(import.meta.resolve(name));
const LIBS = { 'hls.js': entry('hls.js'), 'dash.js': entry('dashjs'), 'shaka.js': entry('shaka-player') };
const version = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
const VERSIONS = {
  playhead: version(PKG),
  ...Object.fromEntries(['hls.js', 'dashjs', 'shaka-player'].map((n) => [n, version(join(PKG, 'node_modules', n))])),
};
// Shaka probes one fMP4 init and media segment of a bare HLS media playlist: real ones.
const MEDIA = { 'init.mp4': 'conformance/media/v/144p/init.mp4', 'segment.m4s': 'conformance/media/v/144p/0.m4s' };

function file(path) {
  const [top, ...rest] = path.split('/');
  const name = rest.join('/');
  if (top === 'pkg') return join(opts.pkg, name);
  if (top === 'bench' && name === 'page.js') return join(PKG, 'bench/page.js');
  if (top === 'lib') return LIBS[name];
  if (top === 'm' && files.includes(name)) return join(opts.dir, name);
  if (top === 'media' && MEDIA[name]) return join(ROOT, MEDIA[name]);
  return null;
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<script src="/lib/shaka.js"></script>
<script type="module">
import { run } from '/bench/page.js';
window.run = run;
window.ready = true;
</script>`;

// A hard stop, should the browser hang.
setTimeout(() => { console.error('parse bench: timed out'); process.exit(1); }, 15 * 60_000).unref();

const site = await serve(PAGE, file);
const browser = await launch();
let results;
let failure;
let chromium;
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error(m.text()));
  page.on('pageerror', (e) => { failure ??= `page error: ${e.message}`; });
  await page.goto(site.url);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 30_000 });
  results = await page.evaluate((a) => window.run(a), { files, runs, warmup });
} catch (e) {
  failure ??= `page failed: ${e.message}`;
} finally {
  chromium = browser.version();
  await browser.close();
  site.close();
}
if (!results) {
  console.error(`parse bench: ${failure}`);
  process.exit(1);
}

const NAMES = ['Playhead', 'hls.js', 'dash.js', 'Shaka'];
const JS = NAMES.slice(1);
const ms = (x) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));
const mark = (r) => (r.also_fetched ? ' †' : '');

for (const m of results) {
  m.description = describe.get(m.file) ?? '';
  const js = JS.map((n) => [n, m.parsers[n]]).filter(([, r]) => r.median_ms !== undefined);
  const ph = m.parsers.Playhead.median_ms;
  if (js.length && ph !== undefined) {
    const [name, r] = js.reduce((a, b) => (b[1].median_ms < a[1].median_ms ? b : a));
    m.fastest_js = name;
    m.ratio = r.median_ms / ph;
  }
}

const cell = (r) => (r.na ? 'n/a' : r.error ? 'ERROR' : `${ms(r.median_ms)}${mark(r)}`);
const ORDER = ['video', 'audio', 'text'];
const rank = (k) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
const tracks = (t) => {
  const e = Object.entries(t).sort(([a], [b]) => rank(a) - rank(b));
  if (e.length === 1 && e[0][0] === 'unknown') return `${e[0][1]} track`;
  return e.map(([k, n]) => `${n}${k[0]}`).join(' ');
};
const counts = (r) => (r.na ? 'n/a' : r.error ? 'ERROR'
  : [r.segments === null ? null : `${r.segments} seg`, tracks(r.tracks)].filter(Boolean).join(', '));

const out = [];
out.push(`Manifest parse to model: median ms of ${runs} runs after ${warmup} warm-up, Chromium ${chromium}`);
out.push(`(Playhead ${VERSIONS.playhead} wasm, hls.js ${VERSIONS['hls.js']}, dash.js ${VERSIONS.dashjs}, Shaka ${VERSIONS['shaka-player']})`);
out.push('');
out.push('| manifest | what | size | Playhead | hls.js | dash.js | Shaka | fastest JS | fastest JS / Playhead |');
out.push('|---|---|---:|---:|---:|---:|---:|---|---:|');
for (const m of results) {
  const size = m.bytes >= 10240 ? `${(m.bytes / 1024).toFixed(0)} KiB` : `${m.bytes} B`;
  out.push(`| ${m.file} | ${m.description.replaceAll('<', '\\<')} | ${size} | ${NAMES.map((n) => cell(m.parsers[n])).join(' | ')} | `
    + `${m.fastest_js ?? '-'} | ${m.ratio === undefined ? '-' : `${m.ratio.toFixed(1)}x`} |`);
}
out.push('');
out.push('What each parser produced (seg: segments listed; tracks: v video, a audio, t text):');
out.push('');
out.push('| manifest | Playhead | hls.js | dash.js | Shaka |');
out.push('|---|---|---|---|---|');
for (const m of results) out.push(`| ${m.file} | ${NAMES.map((n) => counts(m.parsers[n])).join(' | ')} |`);
out.push('', 'What each timed call covers:');
out.push('- Playhead: `countSegments(new Uint8Array(bytes), url)`: copy into wasm, parse to the core\'s model.');
out.push('- hls.js: `M3U8Parser.parseLevelPlaylist` (media) or `parseMasterPlaylist` + `parseMasterPlaylistMedia` on the text.');
out.push('- dash.js: `DashParser.parse` (from `dashjs.FactoryMaker`) on the text: XML to the ironed MPD object; '
  + 'its representation and segment objects are made later, on demand.');
out.push('- Shaka: `DashParser`/`HlsParser` `configure()` + `start()` with an in-memory networking engine, '
  + 'to its Manifest (bytes decoded, timelines expanded).');
const notes = results.flatMap((m) => NAMES.filter((n) => m.parsers[n].also_fetched)
  .map((n) => `${m.file} ${n}: start() also fetched and probed ${m.parsers[n].also_fetched.join(', ')} (served from memory)`));
if (notes.length) out.push('', '† includes work beyond the manifest:', ...notes.map((n) => `- ${n}`));
const batched = results.flatMap((m) => NAMES.filter((n) => m.parsers[n].batch > 1).map((n) => `${m.file} ${n} x${m.parsers[n].batch}`));
if (batched.length) out.push('', `Timed in batches (each sample >= 5 ms; per-parse time shown): ${batched.join(', ')}`);
const errors = results.flatMap((m) => NAMES.filter((n) => m.parsers[n].error).map((n) => `${m.file} ${n}: ${m.parsers[n].error}`));
if (failure) errors.push(failure);
if (errors.length) out.push('', 'Errors:', ...errors.map((e) => `- ${e}`));
console.log(out.join('\n'));

if (opts.json) {
  writeFileSync(opts.json, JSON.stringify({ chromium, runs, warmup, versions: VERSIONS, manifests: results }, null, 2));
}
process.exit(errors.length ? 1 : 0);
