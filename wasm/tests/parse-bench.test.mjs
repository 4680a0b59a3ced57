// The manifest parse benchmark (wasm/bench/parse.mjs) in headless Chromium on the six
// reference manifests with a small run count: every parser succeeds, Playhead lists what
// the generator wrote, and hls.js and dash.js agree where their counts are comparable.
// Times are never judged.
//
// Manifests: the folder $PLAYHEAD_MANIFESTS (`cargo xtask ci` writes it), else written here
// by `cargo run -q -p xtask -- manifests --out <temp dir>`.
// Run: node --test wasm/tests/parse-bench.test.mjs (after `cargo xtask web`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { PKG, ROOT, tempDir } from './harness.mjs';

// Per file: the parsers that must run, and the counts they must report.
const HLS = ['Playhead', 'hls.js', 'Shaka'];
const DASH = ['Playhead', 'dash.js', 'Shaka'];
const DVR = 10_800; // 6 h of 2 s segments
const EXPECTED = {
  'a.m3u8': { parsers: HLS, segments: DVR, tracks: { unknown: 1 }, agree: ['hls.js'] },
  'b.m3u8': { parsers: HLS, segments: 10, tracks: { unknown: 1 }, agree: ['hls.js'] },
  // Variants and renditions only: their segments are in playlists not fetched.
  'c.m3u8': { parsers: HLS, segments: 0, tracks: { video: 12, audio: 4, text: 6 }, agree: ['hls.js'] },
  // 6 video + 2 audio representations, each listing the whole window.
  'd.mpd': { parsers: DASH, segments: 8 * DVR, tracks: { video: 6, audio: 2 }, agree: ['dash.js'] },
  'e.mpd': { parsers: DASH, segments: 8 * DVR, tracks: { video: 6, audio: 2 }, agree: ['dash.js'] },
  // 50 one-minute periods x (4 video + 1 audio) x 30 two-second segments.
  'f.mpd': { parsers: DASH, segments: 50 * 5 * 30, tracks: { video: 200, audio: 50 }, agree: ['dash.js'] },
};

async function manifests() {
  if (process.env.PLAYHEAD_MANIFESTS) return process.env.PLAYHEAD_MANIFESTS;
  const dir = await tempDir('playhead-manifests-');
  execFileSync('cargo', ['run', '-q', '-p', 'xtask', '--', 'manifests', '--out', dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

test('the parse benchmark runs every parser on the reference manifests and they agree', { timeout: 600_000 }, async () => {
  const dir = await manifests();
  const json = join(await tempDir('playhead-parse-bench-'), 'parse.json');
  const args = [join(PKG, 'bench/parse.mjs'), '--dir', dir, '--runs', '2', '--warmup', '1', '--json', json];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: ROOT, timeout: 540_000 });
  } catch (e) {
    assert.fail(`parse.mjs failed (${e.code ?? e.signal}):\n${e.stdout}\n${e.stderr}`);
  }
  const report = JSON.parse(readFileSync(json, 'utf8'));
  assert.deepEqual(report.manifests.map((m) => m.file).sort(), Object.keys(EXPECTED).sort());
  for (const m of report.manifests) {
    const want = EXPECTED[m.file];
    for (const [name, r] of Object.entries(m.parsers)) {
      if (!want.parsers.includes(name)) {
        assert.ok(r.na, `${m.file} ${name}: expected n/a, got ${JSON.stringify(r)}`);
        continue;
      }
      assert.equal(r.error, undefined, `${m.file} ${name} threw`);
      assert.equal(r.times_ms.length, 2, `${m.file} ${name}: two timed runs`);
      assert.ok(r.times_ms.every(Number.isFinite), `${m.file} ${name}: times`);
    }
    const ph = m.parsers.Playhead;
    assert.equal(ph.segments, want.segments, `${m.file}: Playhead's segments`);
    assert.deepEqual(ph.tracks, want.tracks, `${m.file}: Playhead's tracks`);
    for (const name of want.agree) {
      const r = m.parsers[name];
      // hls.js lists no segments for a multivariant playlist.
      if (r.segments !== null) assert.equal(r.segments, want.segments, `${m.file}: ${name}'s segments`);
      assert.deepEqual(r.tracks, want.tracks, `${m.file}: ${name}'s tracks`);
    }
  }
});
