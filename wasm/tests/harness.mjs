// Real-browser test harness: the test origin (`playhead-origin`) on loopback, Debian's
// Chromium driven by playwright-core, and a page served from this package's files by a
// static server on loopback.

import { spawn } from 'node:child_process';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

export const PKG = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(PKG, '..');

/** The origin binary: $PLAYHEAD_ORIGIN, else the debug build `cargo test` leaves. */
function originBinary() {
  const bin = process.env.PLAYHEAD_ORIGIN ?? join(ROOT, 'target/debug/playhead-origin');
  if (!existsSync(bin)) throw new Error(`${bin} missing: build it (cargo build -p playhead-conformance)`);
  return bin;
}

/** Starts an origin with `args`; resolves to its URLs by name once it listens. */
export async function startOrigin(args = []) {
  const proc = spawn(originBinary(), ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Never outlive the tests (an orphan would hold their output pipes open).
  process.once('exit', () => proc.kill('SIGKILL'));
  const urls = {};
  const lines = createInterface({ input: proc.stdout });
  await new Promise((ok, fail) => {
    proc.once('exit', (code) => fail(new Error(`origin exited (${code})`)));
    lines.on('line', (line) => {
      const [name, ...rest] = line.trim().split(/\s+/);
      urls[name] = name === 'cdns' ? rest : rest[0];
      if (name === 'index') ok();
    });
  });
  return {
    urls,
    /** The same path on CDN `i`. */
    onCdn(name, i) {
      const u = new URL(urls[name]);
      return urls.cdns[i] + u.pathname;
    },
    stop: () => proc.kill('SIGINT'),
  };
}

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

/** Chromium with the flags TOOLCHAIN.md lists, and a fresh profile. */
export async function launch() {
  const exe = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(exe)) throw new Error(`${exe} missing: run scripts/setup-web.sh`);
  return chromium.launch({
    executablePath: exe,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required', '--disable-dev-shm-usage'],
  });
}

/**
 * A static server on loopback (a secure context, in the same address space as the origin)
 * serving `html` as its index and other paths from `files(path)` (a local path or null).
 */
export async function serve(html, files = (p) => join(PKG, p), port = 0) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      return;
    }
    const file = files(decodeURIComponent(path.slice(1)));
    if (!file || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(await readFile(file));
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

/** A fresh page at `site`, recording its console; `init` runs before the page's scripts. */
export async function openPage(browser, site, init) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (init) await page.addInitScript(init);
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(site);
  page.logs = logs;
  return page;
}

/** The test page: a <video>, the player module, and a recorder of every event. */
export const TEST_PAGE = `<!doctype html>
<meta charset="utf-8">
<video id="v" muted playsinline style="width:640px;height:360px"></video>
<script type="module">
import { createPlayer } from '/js/player.js';
window.events = [];
window.stalls = [];
window.start = async (src, options = {}) => {
  const video = document.getElementById('v');
  let since = null;
  video.addEventListener('waiting', () => { since ??= performance.now(); });
  video.addEventListener('playing', () => {
    if (since !== null) window.stalls.push(performance.now() - since);
    since = null;
  });
  window.stallNow = () => (since === null ? 0 : performance.now() - since);
  const player = await createPlayer(video, options);
  window.player = player;
  player.on('*', (e) => window.events.push(e instanceof Error
    ? { event: 'error', name: e.name, variant: e.variant, message: e.message }
    : e));
  player.load(src, options.start === undefined ? {} : { start: options.start });
  player.play().catch(() => {});
};
window.state = () => {
  const v = document.getElementById('v');
  const q = v.getVideoPlaybackQuality();
  return { time: v.currentTime, decoded: q.totalVideoFrames, paused: v.paused, readyState: v.readyState,
    error: v.error && v.error.message, window: window.player && window.player.liveWindow,
    buffered: Array.from({ length: v.buffered.length }, (_, i) => [v.buffered.start(i), v.buffered.end(i)]) };
};
window.ready = true;
</script>`;

/** Polls `page`'s state until `pred(state)` holds; throws with the last state after `ms`. */
export async function until(page, pred, ms, what) {
  const deadline = Date.now() + ms;
  let s;
  while (Date.now() < deadline) {
    s = await page.evaluate(() => window.state());
    if (pred(s)) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  const events = await page.evaluate(() => window.events.map((e) => e.event + (e.reason ? `:${e.reason}` : '')).slice(-30));
  throw new Error(`timed out (${ms} ms) waiting for ${what}; state ${JSON.stringify(s)}; events ${events.join(' ')}; console ${page.logs.slice(-10).join(' | ')}`);
}

/** Starts playback of `src` and waits until `seconds` of media have played. */
export async function playFor(page, src, seconds, options = {}, ms = 40000) {
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(([s, o]) => window.start(s, o), [src, options]);
  const first = await until(page, (s) => s.time > 0 && s.decoded > 0, ms, 'the first frame');
  const end = await until(page, (s) => s.time >= first.time + seconds, ms, `${seconds} s of playback`);
  return { first, end };
}

export async function tempDir(prefix) {
  return mkdtemp(join(tmpdir(), prefix));
}

export { writeFile };
