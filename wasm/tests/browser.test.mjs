// The npm package in real headless Chromium against the test origin on loopback:
// every format plays, ABR moves both ways, ClearKey through EME (and a wrong key fails),
// DVR seek back and return to live, a CDN failure without a long stall, and the packed
// package installed into an empty folder plays the README's example.
//
// Run: node --test wasm/tests/ (after `cargo xtask web`, which builds the package).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOrigin, launch, openPage, serve, TEST_PAGE, until, playFor, tempDir, writeFile, PKG, ROOT } from './harness.mjs';

let browser;
let site;
const cleanup = [];

before(async () => {
  browser = await launch();
  site = await serve(TEST_PAGE);
});

after(async () => {
  for (const f of cleanup.reverse()) await f();
  await browser?.close();
  site?.close();
});

async function origin(args = []) {
  const o = await startOrigin(args);
  cleanup.push(() => o.stop());
  return o;
}

async function page(init) {
  const p = await openPage(browser, site.url, init);
  cleanup.push(() => p.context().close());
  return p;
}

const events = (p, name) => p.evaluate((n) => window.events.filter((e) => e.event === n), name);

test('HLS-fMP4, HLS-TS, DASH and Smooth each play live', async () => {
  const o = await origin();
  for (const name of ['hls', 'hls-ts', 'dash', 'smooth']) {
    const p = await page();
    const { first, end } = await playFor(p, o.urls[name], 4);
    assert.ok(end.decoded > first.decoded, `${name}: frames decoded`);
    assert.equal(end.error, null, name);
    await p.context().close();
  }
});

test('without WebAssembly, the same host plays DASH and HLS on the wasm2js core', async () => {
  const o = await origin();
  for (const name of ['dash', 'hls']) {
    // What a 2017 TV's browser lacks.
    const p = await page(() => delete globalThis.WebAssembly);
    const { first, end } = await playFor(p, o.urls[name], 4);
    assert.ok(end.decoded > first.decoded, `${name}: frames decoded`);
    assert.equal(end.error, null, name);
    const kind = await p.evaluate(async () => [typeof WebAssembly, await (await import('/js/player.js')).initialize()]);
    assert.deepEqual(kind, ['undefined', 'js'], name);
    await p.context().close();
  }
});

test('ABR steps up on a fast link and down when the link slows', async () => {
  // Live, 20 Mbit/s for the first 20 s, then 0.3 Mbit/s (below the second rung).
  const dir = await tempDir('playhead-trace-');
  const trace = join(dir, 'fast-then-slow.log');
  const lines = [];
  for (let t = 0; t < 600; t++) lines.push(`${t}\t${t < 20 ? 20 : 0.3}`);
  await writeFile(trace, lines.join('\n'));
  const o = await origin(['--trace', trace]);
  const p = await page();
  await playFor(p, o.urls.dash, 2);
  let switches;
  const deadline = Date.now() + 60000;
  for (;;) {
    switches = (await events(p, 'track-selected')).filter((e) => e.contentType === 'video');
    const up = switches.findIndex((e) => e.reason === 'abr-up');
    if (up >= 0 && switches.slice(up).some((e) => e.reason === 'abr-down')) break;
    if (Date.now() > deadline) assert.fail(`no up then down: ${JSON.stringify(switches)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const up = switches.find((e) => e.reason === 'abr-up');
  const down = switches.find((e, i) => i > switches.indexOf(up) && e.reason === 'abr-down');
  assert.ok(up.bandwidth > switches[0].bandwidth);
  assert.ok(down.bandwidth < up.bandwidth);
});

const CLEARKEY = (o) => ({ drm: { 'clear-key': { licenseUrl: o.urls.clearkey } } });

test('ClearKey-encrypted DASH plays through EME with the licence fetched by the core', async () => {
  const o = await origin();
  const p = await page();
  const { end } = await playFor(p, o.urls['dash-cenc'], 4, CLEARKEY(o));
  assert.equal(end.error, null);
  const statuses = await events(p, 'key-status-changed');
  assert.ok(statuses.some((e) => e.status === 'usable'), JSON.stringify(statuses));
});

test('a wrong ClearKey key fails with a DRM error', async () => {
  const o = await origin(['--key', '00112233445566778899aabbccddeeff:00000000000000000000000000000000']);
  const p = await page();
  await p.waitForFunction(() => window.ready === true);
  await p.evaluate(([s, opts]) => window.start(s, opts), [o.urls['dash-cenc'], CLEARKEY(o)]);
  const deadline = Date.now() + 30000;
  let errors = [];
  while (Date.now() < deadline) {
    errors = await events(p, 'error');
    if (errors.length) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.ok(errors.some((e) => e.variant === 'drm'), JSON.stringify(errors));
  // Live playback starts near the edge: "no playback" is no decoded frame and a stopped element.
  const s = await p.evaluate(() => window.state());
  assert.equal(s.decoded, 0, JSON.stringify(s));
  assert.notEqual(s.error, null, JSON.stringify(s));
});

test('live DVR: seek back 60 s, then return to live', async () => {
  const o = await origin();
  const p = await page();
  const { end } = await playFor(p, o.urls.dash, 2);
  const edge = end.time;
  await p.evaluate((t) => window.player.seek(t), edge - 60);
  const back = await until(p, (s) => Math.abs(s.time - (edge - 60)) < 6 && !s.paused, 20000, 'the seek back');
  await until(p, (s) => s.time > back.time + 2, 20000, 'playback after the seek back');
  await p.evaluate(() => window.player.seekToLive());
  const live = await until(p, (s) => s.time > edge, 20000, 'the return to live');
  const w = live.window;
  assert.ok(w && w.edge - live.time < 15, `near the edge: ${JSON.stringify(live)}`);
  await until(p, (s) => s.time > live.time + 2, 20000, 'playback at the live edge');
});

test('a CDN failure mid-playback causes no stall longer than 2 s', async () => {
  const o = await origin();
  const p = await page();
  const sources = [{ url: o.onCdn('dash', 0), cdn: 'a' }, { url: o.onCdn('dash', 1), cdn: 'b' }];
  const { end } = await playFor(p, sources, 3);
  const control = new URL('control/outage?cdn=0&seconds=60', o.urls.index);
  assert.equal((await fetch(control)).status, 200);
  const after = await until(p, (s) => s.time > end.time + 12, 40000, '12 s of playback after the failure');
  const stalls = await p.evaluate(() => [...window.stalls, window.stallNow()]);
  assert.ok(Math.max(0, ...stalls) < 2000, `stalls ${JSON.stringify(stalls)} ms`);
  const moved = await events(p, 'location-changed');
  assert.ok(moved.length > 0, 'moved to the other CDN');
  assert.equal(after.error, null);
});

test('the TypeScript types check the README example and the API (tsc --strict)', () => {
  execFileSync(join(PKG, 'node_modules/.bin/tsc'), ['-p', join(PKG, 'tests/types')], { stdio: 'inherit' });
});

test('the web demo plays, charts, shows stats, and survives its CDN-failure button', async () => {
  const demo = spawn(process.execPath, [join(ROOT, 'examples/web/serve.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(() => demo.kill('SIGTERM'));
  const url = await new Promise((ok, fail) => {
    demo.once('exit', (code) => fail(new Error(`demo exited (${code})`)));
    createInterface({ input: demo.stdout }).on('line', (l) => l.startsWith('demo: ') && ok(l.slice(6)));
  });
  const ctx = await browser.newContext();
  cleanup.push(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(url);
  const played = () => p.evaluate(() => document.getElementById('video').currentTime);
  await p.waitForFunction(() => document.getElementById('video').currentTime > 0, null, { timeout: 40000 });
  const before = await played();
  await p.click('#fail');
  await p.waitForFunction((t) => document.getElementById('video').currentTime > t + 6, before, { timeout: 40000 });
  const stats = await p.evaluate(() => document.getElementById('stats').textContent);
  assert.match(stats, /bandwidth estimate\d+\.\d\d Mbit\/s/);
  assert.match(stats, /frames decoded \/ dropped[1-9]\d* \//);
  const log = await p.evaluate(() => document.getElementById('log').textContent);
  assert.match(log, /CDN 0 down for 15 s/);
  assert.match(log, /location-changed/);
});

test('npm pack output installs into an empty folder and the README example plays', async () => {
  const o = await origin();
  const dir = await tempDir('playhead-npm-');
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: PKG, encoding: 'utf8' }).trim().split('\n').pop();
  await writeFile(join(dir, 'package.json'), '{"name":"app","private":true}');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(dir, tgz)], { cwd: dir, stdio: 'ignore' });
  // The example, exactly as the README shows it.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const example = readme.match(/<!-- web-example -->\s*```html\n([\s\S]*?)```/)?.[1];
  assert.ok(example, 'README has the web example');
  const html = example.replace('https://example.com/live/manifest.mpd', o.urls.dash);
  const app = await serve(html, (p) => join(dir, p));
  cleanup.push(() => app.close());
  const ctx = await browser.newContext();
  cleanup.push(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(app.url);
  await p.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && v.currentTime > 3 && v.getVideoPlaybackQuality().totalVideoFrames > 0;
  }, null, { timeout: 40000 });
});
