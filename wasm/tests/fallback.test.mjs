// The no-WebAssembly build (js/fallback.js over the wasm2js core) in Node: it runs where
// WebAssembly does not exist (`node --jitless`), and it answers as the WebAssembly build
// does on the real-world corpus. Its run in Chromium through the browser host is in
// browser.test.mjs.
//
// Run: node --test wasm/tests/ (after `cargo xtask web`, which builds both).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOrigin, PKG, ROOT } from './harness.mjs';
import * as fallback from '../js/fallback.js';
import { initSync, countSegments, Player as WasmPlayer } from '../dist/playhead_wasm.js';

initSync({ module: readFileSync(join(PKG, 'dist/playhead_wasm_bg.wasm')) });

const jitless = (args) =>
  execFileSync(process.execPath, ['--jitless', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('node --jitless has no WebAssembly', () => {
  assert.equal(jitless(['-p', 'typeof WebAssembly']).trim(), 'undefined');
});

test('without WebAssembly, the fallback core plays a live HLS stream as a host drives it', async () => {
  const o = await startOrigin();
  try {
    const out = JSON.parse(jitless([join(PKG, 'tests/fallback-drive.mjs'), o.urls.hls, '6']).trim().split('\n').pop());
    assert.equal(out.webassembly, 'undefined');
    assert.equal(out.version, fallback.version());
    assert.ok(out.tracks >= 2, `tracks: ${out.tracks}`);
    for (const kind of ['video:init', 'audio:init']) assert.ok(out.media[kind] >= 1, `${kind}: ${JSON.stringify(out.media)}`);
    // Live from the edge at 2-s segments: several of each in 6 s.
    for (const kind of ['video', 'audio']) assert.ok(out.media[kind] >= 3, `${kind}: ${JSON.stringify(out.media)}`);
    assert.deepEqual(out.stats.errors, []);
    assert.ok(out.stats.startup_time > 0, JSON.stringify(out.stats));
  } finally {
    o.stop();
  }
});

/** The corpus (../shared/corpus or $PLAYHEAD_CORPUS): `[path, url]` of every HLS/DASH/Smooth manifest. */
function corpus() {
  const dir = process.env.PLAYHEAD_CORPUS ?? join(ROOT, '../shared/corpus');
  if (!existsSync(join(dir, 'index.tsv'))) return null;
  return readFileSync(join(dir, 'index.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => line.split('\t'))
    .map(([repo, original, path]) => [join(dir, path), `https://${repo.replace('/', '.')}.example/${original}`]);
}

test('the fallback and WebAssembly builds parse the real-world corpus alike', (t) => {
  const files = corpus();
  if (files === null) return t.skip('corpus not found (../shared/corpus or $PLAYHEAD_CORPUS)');
  const answer = (f) => {
    try {
      return f();
    } catch (e) {
      return `error: ${e.message}`;
    }
  };
  let parsed = 0;
  for (const [path, url] of files) {
    const bytes = readFileSync(path);
    const wasm = answer(() => countSegments(bytes, url));
    const js = answer(() => fallback.countSegments(bytes, url));
    assert.equal(js, wasm, path);
    if (typeof wasm === 'number') parsed++;
  }
  // Most of the corpus parses; the rest must fail alike.
  assert.ok(parsed > files.length / 2, `${parsed} of ${files.length} parsed`);
});

/** Streams fed to both builds, and the outputs each must show. */
const WANT = {
  hls: ['Request', 'Media:held', 'Event', 'SetPosition', 'Timeout'],
  'dash-cenc': ['Cdm:create-session'],
  // The core decrypts AES-128 itself: media comes out as bytes.
  'hls-fmp4-aes': ['Media:bytes'],
};

test('the fallback and WebAssembly builds give the same outputs, bytes included, fed the same inputs', async () => {
  // The two bindings shape Media and Cdm outputs by hand, each in its own way (js_sys
  // objects, JSON with bytes beside it): one session fed to both in lockstep keeps them alike.
  const o = await startOrigin();
  try {
    for (const [name, want] of Object.entries(WANT)) {
      const config = {
        drm: {
          systems: [{ system: 'clear-key', robustness: [], persistent_license: false, schemes: [] }],
          servers: [{ system: 'clear-key', url: o.urls.clearkey, headers: [], wrapping: 'raw', certificate_url: null }],
          session_type: 'temporary',
        },
      };
      const cores = [new WasmPlayer(config), new fallback.Player(config)];
      let mono = 1000;
      const wall = 1_795_262_400_000;
      const both = (f) => cores.map((c) => f(c));
      const seen = new Set();
      const queue = [];
      const step = () => {
        const [a, b] = both((c) => c.poll());
        assert.deepEqual(b, a, name);
        for (const out of a) {
          const [kind, v] = typeof out === 'string' ? [out] : Object.entries(out)[0];
          seen.add(kind === 'Cdm' ? `Cdm:${v.type}` : kind === 'Media' ? `Media:${v.payload instanceof Uint8Array ? 'bytes' : v.payload}` : kind);
          if (kind === 'Request') queue.push(v);
        }
      };
      both((c) => c.command(mono, wall, { Load: { sources: [{ url: o.urls[name], cdn: null, priority: 0 }], start: null } }));
      step();
      for (let n = 0; n < 12 && queue.length; n++) {
        const r = queue.shift();
        const res = await fetch(r.url, { method: r.method === 'Post' ? 'POST' : 'GET', body: r.body ? new Uint8Array(r.body) : undefined });
        const body = new Uint8Array(await res.arrayBuffer());
        const held = r.delivery === 'host';
        mono += 50;
        both((c) => c.response(mono, wall + mono, r.id, res.status, [], held ? undefined : body, body.length, mono - 10, undefined));
        step();
      }
      if (name === 'dash-cenc') {
        // The licence request goes through the CDM: answer as a ClearKey CDM would.
        both((c) => c.cdmMessage(mono, wall + mono, 1, 'license-request', new TextEncoder().encode('{"kids":["ABEiM0RVZneImaq7zN3u_w"],"type":"temporary"}')));
        step();
      }
      both((c) => c.free());
      for (const kind of want) assert.ok(seen.has(kind), `${name}: no ${kind} in ${[...seen]}`);
    }
  } finally {
    o.stop();
  }
});
