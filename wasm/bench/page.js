// The parse benchmark's page: every parser that handles a manifest's format, timed
// run by run in one page. Served by parse.mjs: /pkg/ is the built package, /lib/ the
// JS players as their npm entry points resolve, /m/ the manifests, /media/ one real
// fMP4 init and media segment (what Shaka's HLS parser probes, see below).

import init, { countSegments, Player } from '/pkg/playhead_wasm.js';
import { M3U8Parser, PlaylistLevelType } from '/lib/hls.js';
import '/lib/dash.js'; // sets window.dashjs (its FactoryMaker reaches the DashParser class)

const shaka = window.shaka; // a classic script loaded before this module
const { dashjs } = window;

/** Each sample lasts at least this long: small manifests are parsed in batches, since
 * performance.now() ticks in 0.1 ms steps in a page that is not cross-origin isolated. */
const MIN_SAMPLE_MS = 5;

const bump = (o, k, n = 1) => { o[k] = (o[k] ?? 0) + n; };

// --- Playhead: the package's parse-to-model call on the bytes as fetched.

const playhead = {
  name: 'Playhead',
  handles: () => true,
  parse: (m) => countSegments(new Uint8Array(m.bytes), m.url),
  /** Segments from the timed call; tracks from a Player fed the same bytes (not timed). */
  count(m, segments) {
    const p = new Player(undefined);
    try {
      p.command(performance.now(), Date.now(), { Load: { sources: [{ url: m.url, cdn: null, priority: 0 }], start: null } });
      const req = p.poll().map((o) => o.Request).find((r) => r && r.url === m.url);
      p.response(performance.now(), Date.now(), req.id, 200, [], new Uint8Array(m.bytes), 0, performance.now(), undefined);
      p.poll();
      const tracks = {};
      for (const t of p.tracks()) bump(tracks, t.content_type);
      return { segments, tracks };
    } finally {
      p.free();
    }
  },
};

// --- hls.js: its exported M3U8Parser, as its playlist loader calls it.

const hlsjs = {
  name: 'hls.js',
  handles: (m) => m.format === 'hls',
  parse(m) {
    if (!m.multivariant) return M3U8Parser.parseLevelPlaylist(m.text, m.url, 0, PlaylistLevelType.MAIN, 0, null);
    const parsed = M3U8Parser.parseMasterPlaylist(m.text, m.url);
    if (parsed.playlistParsingError) throw parsed.playlistParsingError;
    return { parsed, media: M3U8Parser.parseMasterPlaylistMedia(m.text, m.url, parsed) };
  },
  count(m, out) {
    if (!m.multivariant) return { segments: out.fragments.length, tracks: { unknown: 1 } };
    const { parsed, media } = out;
    return {
      segments: null,
      tracks: { video: parsed.levels.length, audio: media.AUDIO?.length ?? 0, text: media.SUBTITLES?.length ?? 0 },
    };
  },
};

// --- dash.js: its DashParser class (MPD text to the ironed manifest object its
// ManifestLoader hands on; segments are derived later, on demand), with the logger of a
// real MediaPlayer at its default level.

let dashParserFactory;
let dashDebug;
const dashjsParser = {
  name: 'dash.js',
  handles: (m) => m.format === 'dash',
  parse(m) {
    dashParserFactory ??= dashjs.FactoryMaker.getClassFactoryByName('DashParser');
    dashDebug ??= dashjs.MediaPlayer().create().getDebug();
    return dashParserFactory({}).create({ debug: dashDebug }).parse(m.text);
  },
  /** Tracks and segments read off the parsed object (SegmentTimeline: 1 + S@r per S). */
  count(m, mpd) {
    let segments = 0;
    const tracks = {};
    for (const period of mpd.Period ?? []) {
      for (const set of period.AdaptationSet ?? []) {
        for (const rep of set.Representation ?? []) {
          bump(tracks, set.contentType ?? (rep.mimeType ?? set.mimeType ?? '?').split('/')[0]);
          const tpl = rep.SegmentTemplate ?? set.SegmentTemplate ?? period.SegmentTemplate;
          const timeline = tpl?.SegmentTimeline?.S;
          if (timeline) segments += timeline.reduce((n, s) => n + 1 + (Number(s.r) || 0), 0);
          else if (tpl?.duration) segments += Math.ceil(period.duration / (Number(tpl.duration) / Number(tpl.timescale ?? 1)));
        }
      }
    }
    return { segments, tracks };
  },
};

// --- Shaka Player: its DashParser / HlsParser with the default manifest configuration,
// driven through configure() + start() with an in-memory networking engine. For a bare
// HLS media playlist without CODECS, start() also fetches the init segment and one media
// segment to learn the codecs; the engine serves real fMP4 ones, and the cell is marked.

let shakaConfig;
let media;
const shakaParser = {
  name: 'Shaka',
  handles: (m) => m.format === 'hls' || m.format === 'dash',
  async parse(m, requests) {
    shakaConfig ??= shaka.util.PlayerConfiguration.createDefault().manifest;
    const parser = new (m.format === 'dash' ? shaka.dash.DashParser : shaka.hls.HlsParser)();
    parser.configure(shakaConfig, () => false);
    const errors = [];
    const manifest = await parser.start(m.url, shakaInterface(m, requests, errors));
    if (errors.length) throw errors[0];
    return { parser, manifest };
  },
  async count(m, { manifest }) {
    const streams = new Set(manifest.textStreams);
    for (const v of manifest.variants) for (const s of [v.video, v.audio]) if (s) streams.add(s);
    const tracks = {};
    // A multivariant playlist's segments are in playlists this page does not serve.
    let segments = m.multivariant ? null : 0;
    for (const s of streams) {
      bump(tracks, s.type);
      if (segments === null || s.type === 'text') continue;
      await s.createSegmentIndex();
      for (const _ of s.segmentIndex) segments++;
    }
    return { segments, tracks };
  },
  release: ({ parser }) => parser.stop(),
};

function shakaInterface(m, requests, errors) {
  const { AbortableOperation, Error: ShakaError } = shaka.util;
  const networkingEngine = {
    request(type, request) {
      const uri = request.uris[0];
      const data = uri === m.url ? m.bytes : uri.endsWith('.mp4') ? media.init : uri.endsWith('.m4s') ? media.segment : null;
      requests?.push(uri.startsWith(m.base) ? uri.slice(m.base.length) : uri);
      if (!data) {
        const { CRITICAL } = ShakaError.Severity;
        return AbortableOperation.failed(new ShakaError(CRITICAL, ShakaError.Category.NETWORK, ShakaError.Code.BAD_HTTP_STATUS, uri, 404));
      }
      return AbortableOperation.completed({ uri, originalUri: uri, data, headers: {}, originalRequest: request });
    },
  };
  const none = () => {};
  return {
    networkingEngine,
    filter: () => Promise.resolve(),
    makeTextStreamsForClosedCaptions: none,
    onTimelineRegionAdded: none,
    onEvent: none,
    onError: (e) => errors.push(e),
    isLowLatencyMode: () => false,
    updateDuration: none,
    newDrmInfo: none,
    onManifestUpdated: none,
    getBandwidthEstimate: () => 5e6,
    onMetadata: () => Promise.resolve(),
    disableStream: none,
    addFont: none,
    getStreamingRetryParameters: () => shaka.net.NetworkingEngine.defaultRetryParameters(),
    onSegmentReceived: none,
  };
}

const PARSERS = [playhead, hlsjs, dashjsParser, shakaParser];

const fetchBytes = async (path) => {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.arrayBuffer();
};

/** Parses `m` `reps` times with `p`: ms per parse and the outputs (to release). */
async function sample(p, m, reps, requests) {
  const outs = [];
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const out = p.parse(m, requests);
    outs.push(out instanceof Promise ? await out : out);
  }
  return { ms: (performance.now() - t0) / reps, outs };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
};

/**
 * Times every parser that handles each of `files` (served under /m/): `warmup` runs, then
 * `runs` timed ones, the parsers interleaved run by run in a rotating order.
 */
export async function run({ files, runs, warmup }) {
  await init();
  media = { init: await fetchBytes('/media/init.mp4'), segment: await fetchBytes('/media/segment.m4s') };
  const results = [];
  for (const file of files) {
    const url = new URL(`/m/${file}`, location.href).href;
    const bytes = await fetchBytes(url);
    const text = new TextDecoder().decode(bytes);
    const format = text.startsWith('#EXTM3U') ? 'hls' : text.includes('<MPD') ? 'dash' : 'other';
    const m = { file, url, base: new URL('.', url).href, bytes, text, format, multivariant: text.includes('#EXT-X-STREAM-INF') };
    const contenders = PARSERS.filter((p) => p.handles(m));
    const state = new Map(contenders.map((p) => [p, { times: [], reps: 1 }]));
    for (let i = 0; i < warmup + runs; i++) {
      for (let k = 0; k < contenders.length; k++) {
        const p = contenders[(k + i) % contenders.length];
        const s = state.get(p);
        if (s.error) continue;
        try {
          const requests = i === 0 ? [] : undefined;
          const { ms, outs } = await sample(p, m, s.reps, requests);
          if (i === 0) {
            s.count = await p.count(m, outs[0]);
            s.extra = requests.filter((r) => r !== file);
          }
          if (p.release) for (const o of outs) await p.release(o);
          if (i >= warmup) s.times.push(ms);
          else s.reps = Math.min(1000, Math.max(1, Math.ceil(MIN_SAMPLE_MS / Math.max(ms, 0.001))));
        } catch (e) {
          s.error = `${e?.name ?? 'Error'}: ${e?.message ?? e}${e?.code ? ` (code ${e.code})` : ''}`;
        }
      }
    }
    const parsers = {};
    for (const p of PARSERS) {
      const s = state.get(p);
      if (!s) {
        parsers[p.name] = { na: `no ${m.format.toUpperCase()} parser` };
      } else if (s.error) {
        parsers[p.name] = { error: s.error };
      } else {
        parsers[p.name] = {
          median_ms: median(s.times), min_ms: Math.min(...s.times), batch: s.reps, times_ms: s.times,
          ...s.count, ...(s.extra.length ? { also_fetched: s.extra } : {}),
        };
      }
    }
    results.push({ file, bytes: bytes.byteLength, format: m.format, multivariant: m.multivariant, parsers });
    console.log(`parse bench: ${file} done`);
  }
  return results;
}
