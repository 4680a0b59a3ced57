// Playhead's browser host. The core decides (which request, which rendition, when to
// append, what to tell the CDM); this file does the I/O it asks for with the browser's own
// parts: fetch (streamed, abortable), MediaSource and SourceBuffers, EME, the <video>
// element and timers. See the core's calling contract in core/src/engine.
//
// The core is WebAssembly (dist/playhead_wasm.js), or, where the browser has none, the
// same Rust as plain JavaScript (fallback.js); both have one `Player` class.

import init, * as wasmCore from '../dist/playhead_wasm.js';

let ready = null;
let core = null;

/**
 * Loads the core once. `wasm`: where the .wasm is (a URL, Response or bytes; default:
 * beside this file). `engine`: `'wasm'`, `'js'` (the no-WebAssembly build) or `'auto'`
 * (WebAssembly when the browser has it). The first call decides.
 */
export function initialize(wasm, engine = 'auto') {
  const js = engine === 'js' || (engine === 'auto' && typeof WebAssembly !== 'object');
  ready ??= js
    ? import('./fallback.js').then((m) => {
        core = m;
        return 'js';
      })
    : init(wasm === undefined ? undefined : { module_or_path: wasm }).then(() => {
        core = wasmCore;
        return 'wasm';
      });
  return ready;
}

/** The core's version (after `initialize`). */
export function version() {
  return core.version();
}

/** An error from Playhead: `name` says where it comes from, `variant` what happened. */
export class PlayheadError extends Error {
  constructor(name, variant, message, detail) {
    super(message);
    this.name = name;
    this.variant = variant;
    if (detail !== undefined) this.detail = detail;
  }
}

const US = 1e6;
const toUs = (seconds) => Math.round(seconds * US);
const camel = (k) => k.replace(/[_-]([a-z])/g, (_, c) => c.toUpperCase());

/** Core records (snake_case) as app-facing objects (camelCase), deeply. */
function camelize(v) {
  if (Array.isArray(v)) return v.map(camelize);
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  const o = {};
  for (const [k, x] of Object.entries(v)) o[camel(k)] = camelize(x);
  return o;
}

/** Codec families the decoder takes, probed with a representative string each. */
const PROBES = [
  ['avc1.640033', 'video'], ['avc3.640033', 'video'], ['hvc1.2.4.L153.B0', 'video'],
  ['hev1.2.4.L153.B0', 'video'], ['vp09.00.51.08', 'video'], ['av01.0.13M.10', 'video'],
  ['mp4a.40.2', 'audio'], ['ac-3', 'audio'], ['ec-3', 'audio'], ['opus', 'audio'], ['flac', 'audio'],
];

function probeCodecs() {
  const out = [];
  for (const [codec, kind] of PROBES) {
    if (!MediaSource.isTypeSupported(`${kind}/mp4; codecs="${codec}"`)) continue;
    // AVC: the probe is High 5.1, so the entry is a ceiling; others by family.
    out.push(codec.startsWith('avc') ? codec : codec.split('.')[0]);
  }
  return out;
}

const AUDIO = ['mp4a', 'ac-3', 'ec-3', 'opus', 'flac', 'mp3', 'dtsc', 'alac'];
const isAudio = (codec) => AUDIO.some((a) => codec.toLowerCase().startsWith(a));

const TS_PROBE = 'video/mp2t; codecs="avc1.42E01E,mp4a.40.2"';

/** The engine configuration a browser host needs, merged with the app's `config`. */
function engineConfig(options) {
  const config = { ...(options.config ?? {}) };
  config.sink ??= { segments: { mpeg_ts: MediaSource.isTypeSupported(TS_PROBE) } };
  const drm = options.drm;
  if (drm && !config.drm) {
    const systems = [];
    const servers = [];
    for (const [system, s] of Object.entries(drm)) {
      systems.push({ system, robustness: s.robustness ?? [], persistent_license: false, schemes: [] });
      servers.push({
        system,
        url: s.licenseUrl ?? null,
        headers: Object.entries(s.headers ?? {}).map(([name, value]) => ({ name, value })),
        wrapping: 'raw',
        certificate_url: s.certificateUrl ?? null,
      });
    }
    config.drm = { systems, servers, session_type: 'temporary' };
  }
  return config;
}

/** One decoder input: a SourceBuffer and its append queue. */
class Input {
  constructor(type) {
    this.type = type;
    this.sb = null;
    this.queue = [];
    this.timeline = -1;
  }
}

export class Player {
  #video;
  #options;
  #core;
  #listeners = new Map();
  #requests = new Map();
  #held = new Map();
  #inputs = new Map();
  #selected = new Map();
  #sessions = new Map();
  #keys = null;
  #ms = null;
  #msUrl = null;
  #eos = false;
  #timer = null;
  #tick = null;
  #draining = false;
  #again = false;
  #dead = false;
  #target = null;
  #prefs = { audio_language: null, text_language: null, video_track: null };
  #window = null;
  #loaded = null;
  #onVideo = () => this.#report();
  #onMetadata = () => {
    if (this.#target !== null) this.#setPosition(this.#target);
  };
  #onVideoError = () => {
    const err = this.#video.error;
    if (!err || this.#dead) return;
    // Encrypted media that fails to decode once keys are in: a wrong or mismatched key.
    const variant = this.#sessions.size && err.code === MediaError.MEDIA_ERR_DECODE ? 'drm' : 'decode';
    this.#emit('error', new PlayheadError('PlayheadMediaError', variant, err.message || `media error ${err.code}`));
  };

  /** A player on `video`. Call `await initialize()` first, or use `createPlayer`. */
  constructor(video, options = {}) {
    this.#video = video;
    this.#options = options;
    this.#core = new core.Player(engineConfig(options));
    for (const e of ['playing', 'pause', 'waiting', 'seeking', 'seeked', 'ended', 'timeupdate', 'canplay']) {
      video.addEventListener(e, this.#onVideo);
    }
    video.addEventListener('loadedmetadata', this.#onMetadata);
    this.#tick = setInterval(this.#onVideo, 250);
    video.addEventListener('error', this.#onVideoError);
  }

  /** Loads `src` (a manifest URL, or `[{url, cdn, priority}]` CDNs) and starts buffering. */
  load(src, { start } = {}) {
    this.#resetMedia();
    const sources = (Array.isArray(src) ? src : [{ url: src }]).map((s, i) => ({
      // The browser's URL parser resolves relative URLs and turns international host
      // names into punycode (the core's URL code is ASCII-only, to stay small).
      url: new URL(s.url, globalThis.document?.baseURI).href,
      cdn: s.cdn ?? null,
      priority: s.priority ?? i,
    }));
    const target = start === undefined ? null : start === 'live' ? 'LiveEdge' : { Position: toUs(start) };
    this.#command({ SetCapabilities: this.#capabilities() });
    this.#command({ Load: { sources, start: target } });
  }

  play() {
    this.#command('Play');
    return this.#video.play();
  }

  pause() {
    this.#command('Pause');
    this.#video.pause();
  }

  /** Moves to `seconds` of presentation time (clamped to the DVR window when live). */
  seek(seconds) {
    this.#command({ Seek: { Position: toUs(seconds) } });
  }

  /** Back to the live edge (the start, for VOD). */
  seekToLive() {
    this.#command({ Seek: 'LiveEdge' });
  }

  /** Every track of the presentation, with `selected` set on those playing. */
  getTracks() {
    if (this.#dead) return [];
    const selected = new Set(this.#selected.values());
    return camelize(this.#core.tracks()).map((t) => ({ ...t, selected: selected.has(t.id) }));
  }

  /** Fixes the video track (`null`: adaptive again). */
  selectVideoTrack(id) {
    this.#prefs = { ...this.#prefs, video_track: id ?? null };
    this.#command({ SetPreferences: this.#prefs });
  }

  /** Prefers an audio language (BCP 47). */
  setAudioLanguage(language) {
    this.#prefs = { ...this.#prefs, audio_language: language ?? null };
    this.#command({ SetPreferences: this.#prefs });
  }

  /** The live window `{start, end, edge}` in seconds, or null (VOD, or not loaded). */
  get liveWindow() {
    const w = this.#window;
    return w ? { start: w.start / US, end: w.end / US, edge: w.edge / US } : null;
  }

  get isLive() {
    return this.#loaded?.live ?? false;
  }

  /** Subscribes to an engine event (`loaded`, `track-selected`, `stall-started`, `error`, ...; `*` for all). */
  on(name, fn) {
    if (!this.#listeners.has(name)) this.#listeners.set(name, new Set());
    this.#listeners.get(name).add(fn);
    return () => this.off(name, fn);
  }

  off(name, fn) {
    this.#listeners.get(name)?.delete(fn);
  }

  /** QoE statistics (camelCase, times in seconds where the core gives microseconds). */
  getStats() {
    if (this.#dead) return null;
    const s = camelize(this.#core.stats());
    for (const k of ['timeToFirstMedia', 'startupTime', 'stallTime', 'playTime', 'liveLatency']) {
      if (typeof s[k] === 'number') s[k] /= US;
    }
    return s;
  }

  /** Stops everything and releases the core; the player cannot be used again. */
  destroy() {
    if (this.#dead) return;
    try {
      this.#command('Stop');
    } catch {}
    this.#dead = true;
    clearTimeout(this.#timer);
    clearInterval(this.#tick);
    for (const e of ['playing', 'pause', 'waiting', 'seeking', 'seeked', 'ended', 'timeupdate', 'canplay']) {
      this.#video.removeEventListener(e, this.#onVideo);
    }
    this.#video.removeEventListener('error', this.#onVideoError);
    this.#video.removeEventListener('loadedmetadata', this.#onMetadata);
    for (const r of this.#requests.values()) {
      r.cancelled = true;
      r.ctl.abort();
    }
    this.#requests.clear();
    for (const s of this.#sessions.values()) s.close().catch(() => {});
    this.#resetMedia();
    this.#listeners.clear();
    this.#core.free();
  }

  // ---- driving the core ----

  #emit(name, payload) {
    for (const key of [name, '*']) {
      for (const fn of this.#listeners.get(key) ?? []) {
        try {
          fn(payload);
        } catch (e) {
          console.error('playhead: listener failed', e);
        }
      }
    }
  }

  /** Feeds one input (`fn(mono, wall)` calls the core), then drains the outputs. */
  #call(fn) {
    if (this.#dead) return;
    try {
      fn(performance.now(), Date.now());
    } catch (e) {
      this.#fail(e);
      return;
    }
    this.#drain();
  }

  #command(command) {
    this.#call((m, w) => this.#core.command(m, w, command));
  }

  #fail(e) {
    if (e?.name === 'PlayheadInputError' || e?.name === 'PlayheadArgumentError') {
      // A misuse by this host: the input was ignored and the engine is consistent.
      this.#emit('warning', e);
      return;
    }
    // A trap inside WebAssembly: the core's state is gone.
    this.#dead = true;
    clearTimeout(this.#timer);
    this.#emit('error', new PlayheadError('PlayheadCrash', 'crash', String(e?.message ?? e)));
  }

  #drain() {
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = true;
    try {
      do {
        this.#again = false;
        let outs;
        try {
          outs = this.#core.poll();
        } catch (e) {
          this.#fail(e);
          return;
        }
        for (const o of outs) this.#output(o);
      } while (this.#again && !this.#dead);
    } finally {
      this.#draining = false;
    }
  }

  #output(o) {
    if (o === 'EndOfStream') {
      this.#eos = true;
      this.#maybeEnd();
      return;
    }
    const [tag] = Object.keys(o);
    const v = o[tag];
    switch (tag) {
      case 'Request': this.#fetch(v); break;
      case 'Cancel': this.#cancel(v); break;
      case 'Media': this.#media(v); break;
      case 'SetPosition': this.#setPosition(v / US); break;
      case 'Cdm': this.#cdm(v); break;
      case 'Event': this.#event(v); break;
      case 'Timeout': this.#schedule(v); break;
    }
  }

  /**
   * Moves the element's playhead. Before the element has metadata a position does not
   * stick (it reads back as 0): keep it until then, and report it meanwhile.
   */
  #setPosition(seconds) {
    if (this.#video.readyState >= HTMLMediaElement.HAVE_METADATA) {
      this.#target = null;
      this.#video.currentTime = seconds;
      return;
    }
    this.#target = seconds;
  }

  #schedule(deadline) {
    clearTimeout(this.#timer);
    if (deadline == null) return;
    const delay = Math.max(0, deadline / 1000 - performance.now());
    this.#timer = setTimeout(() => this.#call((m, w) => this.#core.timeout(m, w)), delay);
  }

  #event(e) {
    switch (e.event) {
      case 'loaded': this.#loaded = e; this.#syncDuration(); break;
      case 'track-selected': this.#selected.set(e.content_type, e.to); break;
      case 'live-window': this.#window = e; this.#syncDuration(); break;
    }
    const payload = camelize(e);
    if (e.event === 'error') {
      this.#emit('error', new PlayheadError('PlayheadError', e.class, `${e.class} error: ${e.cause}`, payload));
      return;
    }
    this.#emit(e.event, payload);
  }

  // ---- network ----

  async #fetch(r) {
    const entry = { ctl: new AbortController(), cancelled: false, timedOut: false };
    this.#requests.set(r.id, entry);
    const headers = new Headers();
    for (const h of r.headers) headers.set(h.name, h.value);
    if (r.byte_range) {
      const { start, length } = r.byte_range;
      headers.set('Range', `bytes=${start}-${length == null ? '' : start + length - 1}`);
    }
    const timer = setTimeout(() => {
      entry.timedOut = true;
      entry.ctl.abort();
    }, r.timeout / 1000);
    let received = 0;
    try {
      const resp = await fetch(r.url, {
        method: r.method.toUpperCase(),
        headers,
        body: r.body ? new Uint8Array(r.body) : undefined,
        signal: entry.ctl.signal,
      });
      const firstByte = performance.now();
      const length = resp.headers.get('content-length');
      const total = length === null ? undefined : Number(length);
      const chunks = [];
      if (resp.body) {
        const reader = resp.body.getReader();
        let last = firstByte;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          received += value.length;
          const t = performance.now();
          if (t - last >= 100 && !entry.cancelled) {
            last = t;
            this.#call((m, w) => this.#core.progress(m, w, r.id, received, total));
          }
        }
      }
      clearTimeout(timer);
      if (entry.cancelled) return;
      this.#requests.delete(r.id);
      if (total !== undefined && received < total) {
        this.#call((m, w) => this.#core.failed(m, w, r.id, 'truncated', `${received} of ${total} bytes`));
        return;
      }
      const body = new Uint8Array(received);
      let at = 0;
      for (const c of chunks) {
        body.set(c, at);
        at += c.length;
      }
      const kept = [];
      for (const name of ['date', 'content-type', 'age', 'last-modified']) {
        const value = resp.headers.get(name);
        if (value !== null) kept.push({ name, value });
      }
      const finalUrl = resp.redirected ? resp.url : undefined;
      if (r.delivery === 'host') {
        this.#hold(r.id, body);
        this.#call((m, w) => this.#core.response(m, w, r.id, resp.status, kept, undefined, body.length, firstByte, finalUrl));
      } else {
        this.#call((m, w) => this.#core.response(m, w, r.id, resp.status, kept, body, 0, firstByte, finalUrl));
      }
    } catch (e) {
      clearTimeout(timer);
      if (entry.cancelled) return;
      this.#requests.delete(r.id);
      const cls = entry.timedOut ? 'timeout' : received > 0 ? 'truncated' : 'network';
      this.#call((m, w) => this.#core.failed(m, w, r.id, cls, String(e?.message ?? e)));
    }
  }

  /** Keeps a body for a later `Media` output; a few at most (the engine consumes them in order). */
  #hold(id, body) {
    this.#held.set(id, body);
    if (this.#held.size > 16) this.#held.delete(this.#held.keys().next().value);
  }

  #cancel(id) {
    const r = this.#requests.get(id);
    this.#held.delete(id);
    if (!r) return;
    r.cancelled = true;
    r.ctl.abort();
    this.#requests.delete(id);
  }

  // ---- Media Source Extensions ----

  #resetMedia() {
    this.#target = null;
    for (const b of this.#inputs.values()) b.queue.length = 0;
    this.#inputs.clear();
    this.#held.clear();
    this.#eos = false;
    if (this.#msUrl) {
      this.#video.removeAttribute('src');
      this.#video.load();
      URL.revokeObjectURL(this.#msUrl);
    }
    this.#ms = new MediaSource();
    this.#msUrl = URL.createObjectURL(this.#ms);
    this.#video.src = this.#msUrl;
    this.#ms.addEventListener('sourceopen', () => {
      this.#syncDuration();
      this.#pumpAll();
    }, { once: true });
  }

  #media(m) {
    if (m.content_type === 'text') return;
    let data = m.payload;
    if (data === 'held') {
      data = this.#held.get(m.request);
      this.#held.delete(m.request);
    }
    if (!data) return;
    let b = this.#inputs.get(m.content_type);
    if (!b) {
      b = new Input(m.content_type);
      this.#inputs.set(m.content_type, b);
    }
    b.queue.push({ m, data });
    this.#pumpAll();
  }

  /** The MIME type of a decoder input, from its selected track and the first bytes. */
  #mime(b, data) {
    // A variant's CODECS lists its audio too: keep those of this input, unless the audio
    // is muxed in (no audio input of its own).
    const all = this.#selectedCodecs(b.type);
    const own = all.filter((c) => isAudio(c) === (b.type === 'audio'));
    const list = b.type === 'video' && !this.#selected.has('audio') ? all : own;
    const codecs = list.length ? list.join(',') : b.type === 'audio' ? 'mp4a.40.2' : 'avc1.42E01E';
    const container = data[0] === 0x47 ? 'video/mp2t' : b.type === 'audio' ? 'audio/mp4' : 'video/mp4';
    return `${container}; codecs="${codecs}"`;
  }

  #pumpAll() {
    if (this.#ms?.readyState !== 'open') return;
    // Browsers take no new SourceBuffer once one has media: create them together, when
    // every selected input has its first media (its container is read from the bytes).
    const waiting = [...this.#selected.keys()].some((t) => t !== 'text' && !this.#inputs.get(t)?.queue.length && !this.#inputs.get(t)?.sb);
    const fresh = [...this.#inputs.values()].every((b) => !b.sb);
    if (fresh && waiting) return;
    for (const b of this.#inputs.values()) {
      if (!b.sb && b.queue.length) {
        try {
          b.sb = this.#ms.addSourceBuffer(this.#mime(b, b.queue[0].data));
          b.sb.addEventListener('updateend', () => {
            this.#syncDuration();
            this.#pump(b);
            this.#report();
          });
          b.sb.addEventListener('error', () => this.#emit('warning', new PlayheadError('PlayheadMediaError', 'append', `append to ${b.type} failed`)));
        } catch (e) {
          this.#emit('error', new PlayheadError('PlayheadMediaError', 'source-buffer', String(e?.message ?? e)));
          this.#dead = true;
          return;
        }
      }
    }
    for (const b of this.#inputs.values()) this.#pump(b);
  }

  #pump(b) {
    if (!b.sb || b.sb.updating || this.#ms?.readyState !== 'open') return;
    const item = b.queue[0];
    if (!item) {
      this.#maybeEnd();
      return;
    }
    if (this.#evict(b, false)) return;
    const { m, data } = item;
    try {
      if (m.timestamp_offset === 'align') {
        // HLS: place the first sample of each timeline at its segment's start; sequence
        // mode keeps the offset for the segments that follow.
        if (!m.init && b.timeline !== m.timeline) {
          b.sb.mode = 'sequence';
          b.sb.timestampOffset = m.start / US;
          b.timeline = m.timeline;
        }
      } else if (!m.init) {
        const offset = m.timestamp_offset / US;
        if (b.sb.timestampOffset !== offset) b.sb.timestampOffset = offset;
      }
      b.sb.appendBuffer(data);
      b.queue.shift();
    } catch (e) {
      if (e?.name === 'QuotaExceededError' && this.#evict(b, true)) return;
      this.#emit('error', new PlayheadError('PlayheadMediaError', 'append', String(e?.message ?? e)));
    }
  }

  /** Removes media behind the playhead: beyond 30 s, or all but 2 s when `urgent`. Returns whether a removal started. */
  #evict(b, urgent) {
    const buffered = b.sb.buffered;
    if (!buffered.length) return false;
    const now = this.#video.currentTime;
    const keep = urgent ? 2 : 30;
    const start = buffered.start(0);
    if (now - start <= keep) return false;
    b.sb.remove(start, now - (urgent ? 2 : 10));
    return true;
  }

  /**
   * The element seeks only within its seekable range: the duration for VOD; for live an
   * infinite duration and the DVR window as the live seekable range.
   */
  #syncDuration() {
    const ms = this.#ms;
    if (ms?.readyState !== 'open' || !this.#loaded) return;
    if ([...this.#inputs.values()].some((b) => b.sb?.updating)) return;
    try {
      if (this.#loaded.live) {
        if (ms.duration !== Infinity) ms.duration = Infinity;
        const w = this.#window;
        if (w) ms.setLiveSeekableRange(w.start / US, w.end / US);
      } else if (this.#loaded.duration != null && !this.#eos) {
        const d = this.#loaded.duration / US;
        if (ms.duration !== d) ms.duration = d;
      }
    } catch (e) {
      this.#emit('warning', new PlayheadError('PlayheadMediaError', 'duration', String(e?.message ?? e)));
    }
    if (this.#target !== null) this.#onMetadata();
  }

  #maybeEnd() {
    if (!this.#eos || this.#ms?.readyState !== 'open') return;
    for (const b of this.#inputs.values()) if (b.queue.length || b.sb?.updating) return;
    try {
      this.#ms.endOfStream();
    } catch {}
  }

  // ---- the video element ----

  #report() {
    if (this.#dead || !this.#ms) return;
    const v = this.#video;
    this.#jumpGap();
    const q = v.getVideoPlaybackQuality?.();
    const state = v.ended ? 'ended' : v.paused ? 'paused' : v.readyState < 3 ? 'stalled' : 'playing';
    const buffered = [];
    for (const b of this.#inputs.values()) {
      if (!b.sb) continue;
      const ranges = [];
      try {
        for (let i = 0; i < b.sb.buffered.length; i++) {
          ranges.push([toUs(b.sb.buffered.start(i)), toUs(b.sb.buffered.end(i))]);
        }
      } catch {
        continue;
      }
      buffered.push({ content_type: b.type, ranges });
    }
    const playback = {
      position: toUs(this.#target ?? v.currentTime),
      state,
      buffered,
      dropped_frames: q?.droppedVideoFrames ?? 0,
      decoded_frames: q?.totalVideoFrames ?? 0,
    };
    this.#call((m, w) => this.#core.playback(m, w, playback));
  }

  /**
   * Media often starts a few frames after its segment's start (a composition offset), and
   * the element waits forever in such a gap: step over gaps under half a second.
   */
  #jumpGap() {
    const v = this.#video;
    if (v.paused || v.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA || this.#target !== null) return;
    const t = v.currentTime;
    for (let i = 0; i < v.buffered.length; i++) {
      const start = v.buffered.start(i);
      if (start > t && start - t < 0.5) {
        v.currentTime = start + 0.001;
        return;
      }
    }
  }

  #capabilities() {
    const v = this.#video;
    const dpr = globalThis.devicePixelRatio ?? 1;
    const caps = { codecs: probeCodecs() };
    if (globalThis.screen?.width) {
      caps.max_width = Math.round(screen.width * dpr);
      caps.max_height = Math.round(screen.height * dpr);
    }
    if (v.clientWidth && v.clientHeight && this.#options.capToViewport !== false) {
      caps.viewport = { width: Math.round(v.clientWidth * dpr), height: Math.round(v.clientHeight * dpr) };
    }
    return { ...caps, ...(this.#options.capabilities ?? {}) };
  }

  // ---- Encrypted Media Extensions ----

  async #mediaKeys(c) {
    this.#keys ??= (async () => {
      const video = this.#codecs('video', 'avc1.42E01E');
      const audio = this.#codecs('audio', 'mp4a.40.2');
      const access = await navigator.requestMediaKeySystemAccess(c.system, [{
        initDataTypes: [c.init_data_type ?? 'cenc'],
        videoCapabilities: [{ contentType: `video/mp4; codecs="${video}"`, robustness: c.robustness ?? '' }],
        audioCapabilities: [{ contentType: `audio/mp4; codecs="${audio}"` }],
        sessionTypes: [c.session_type ?? 'temporary'],
      }]);
      const keys = await access.createMediaKeys();
      await this.#video.setMediaKeys(keys);
      return keys;
    })();
    return this.#keys;
  }

  /** The first codec of `type` the selected track of that input lists, or `fallback`. */
  #codecs(type, fallback) {
    return this.#selectedCodecs(type).find((c) => (type === 'audio') === isAudio(c)) ?? fallback;
  }

  /** Every codec the track selected for input `type` lists (CODECS may name several). */
  #selectedCodecs(type) {
    const id = this.#selected.get(type);
    const track = this.#core.tracks().find((t) => t.id === id && t.content_type === type);
    return (track?.codecs ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  }

  async #cdm(c) {
    const session = c.session ?? 0;
    try {
      switch (c.type) {
        case 'create-session': {
          const keys = await this.#mediaKeys(c);
          const s = keys.createSession(c.session_type);
          this.#sessions.set(session, s);
          s.addEventListener('message', (e) => {
            const message = new Uint8Array(e.message);
            this.#call((m, w) => this.#core.cdmMessage(m, w, session, e.messageType, message));
          });
          s.addEventListener('keystatuseschange', () => {
            const kids = [];
            const statuses = [];
            s.keyStatuses.forEach((status, kid) => {
              const view = ArrayBuffer.isView(kid) ? new Uint8Array(kid.buffer, kid.byteOffset, kid.byteLength) : new Uint8Array(kid);
              kids.push(...view);
              statuses.push(status);
            });
            this.#call((m, w) => this.#core.cdmKeyStatuses(m, w, session, new Uint8Array(kids), statuses));
          });
          await s.generateRequest(c.init_data_type, c.init_data);
          break;
        }
        case 'update':
          await this.#sessions.get(session)?.update(c.license);
          break;
        case 'close':
          await this.#sessions.get(session)?.close();
          this.#sessions.delete(session);
          break;
        case 'set-server-certificate':
          await (await this.#mediaKeys(c)).setServerCertificate(c.certificate);
          break;
      }
    } catch (e) {
      this.#call((m, w) => this.#core.cdmError(m, w, session, String(e?.message ?? e)));
    }
  }
}

/** Loads the module if needed and returns a player on `video`. */
export async function createPlayer(video, options = {}) {
  await initialize(options.wasm, options.engine);
  return new Player(video, options);
}
