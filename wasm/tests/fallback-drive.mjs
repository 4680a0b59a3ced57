// Drives the no-WebAssembly core (js/fallback.js) as a host would, with Node's http
// module and clock, on a live stream: `node --jitless fallback-drive.mjs URL SECONDS`.
// Prints one JSON line: what ran and what came out.

import http from 'node:http';
import { Player, version } from '../js/fallback.js';

const [url, seconds = '6'] = process.argv.slice(2);
const now = () => [performance.now(), Date.now()];

function get(req) {
  return new Promise((ok, fail) => {
    const headers = Object.fromEntries((req.headers ?? []).map((h) => [h.name, h.value]));
    if (req.byte_range) {
      const { start, length } = req.byte_range;
      headers.Range = `bytes=${start}-${length == null ? '' : start + length - 1}`;
    }
    const r = http.request(req.url, { method: req.method === 'Post' ? 'POST' : 'GET', headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ res, body: new Uint8Array(Buffer.concat(chunks)) }));
      res.on('error', fail);
    });
    r.on('error', fail);
    if (req.body) r.write(Buffer.from(req.body));
    r.end();
  });
}

const core = new Player({});
const seen = { media: {}, bytes: 0, held: 0, events: {}, errors: [] };
let timer = null;
// The playhead: where the engine put it, moving with the clock.
let position = null;

function drain() {
  for (const out of core.poll()) {
    const [kind, value] = Object.entries(out)[0] ?? [out, null];
    if (kind === 'Request') perform(value);
    else if (kind === 'SetPosition') position = { at: performance.now(), us: value };
    else if (kind === 'Media') {
      const key = `${value.content_type}${value.init ? ':init' : ''}`;
      seen.media[key] = (seen.media[key] ?? 0) + 1;
      if (value.payload instanceof Uint8Array) seen.bytes += value.payload.length;
      else if (value.payload === 'held') seen.held += 1;
    } else if (kind === 'Event') {
      const name = value.event;
      seen.events[name] = (seen.events[name] ?? 0) + 1;
    } else if (kind === 'Timeout') {
      clearTimeout(timer);
      if (value !== null) {
        const wait = Math.max(0, value / 1000 - performance.now());
        timer = setTimeout(() => {
          core.timeout(...now());
          drain();
        }, wait);
      }
    }
  }
}

async function perform(req) {
  const firstByte = performance.now();
  try {
    const { res, body } = await get(req);
    const headers = Object.entries(res.headers).map(([name, value]) => ({ name, value: String(value) }));
    const held = req.delivery === 'host';
    core.response(...now(), req.id, res.statusCode, headers, held ? undefined : body, body.length, firstByte, undefined);
  } catch (e) {
    core.failed(...now(), req.id, 'network', String(e.message));
  }
  drain();
}

core.command(...now(), { Load: { sources: [{ url, cdn: null, priority: 0 }], start: null } });
core.command(...now(), 'Play');
drain();

// Report playback as a host whose decoder keeps up (no buffered ranges: the engine keeps
// its own account), so the engine keeps fetching.
const report = setInterval(() => {
  if (position === null) return;
  const us = position.us + Math.round((performance.now() - position.at) * 1000);
  core.playback(...now(), { position: us, state: 'playing', buffered: [], dropped_frames: 0, decoded_frames: 1 });
  drain();
}, 500);

setTimeout(() => {
  clearInterval(report);
  clearTimeout(timer);
  const tracks = core.tracks();
  const stats = core.stats();
  console.log(JSON.stringify({
    webassembly: typeof WebAssembly,
    version: version(),
    tracks: tracks.length,
    stats,
    ...seen,
  }));
  core.free();
  process.exit(0);
}, Number(seconds) * 1000);
