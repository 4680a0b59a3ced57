// The core without WebAssembly: the same Rust compiled to wasm32 without reference types,
// then to plain JavaScript by binaryen's wasm2js (dist/fallback/playhead_core.js), behind
// the same `Player` class as the wasm-bindgen build. player.js picks it when the browser
// has no WebAssembly (Tizen 3/4, webOS 3/4) or when asked with `engine: 'js'`.
//
// The ABI (wasm/fallback/src/lib.rs): a call is JSON, then its byte argument, in one
// buffer; the answer is JSON, then the bytes it names as {"$bytes": [offset, length]}.

import * as core from '../dist/fallback/playhead_core.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function call(handle, args, bytes) {
  const json = encoder.encode(JSON.stringify(args));
  const extra = bytes ? bytes.length : 0;
  const len = json.length + extra;
  const ptr = core.ph_alloc(len);
  let mem = new Uint8Array(core.memory.buffer);
  mem.set(json, ptr);
  if (extra) mem.set(bytes, ptr + json.length);
  const status = core.ph_call(handle, ptr, len, json.length);
  core.ph_free(ptr, len);
  // The call may have grown the memory: look again.
  mem = new Uint8Array(core.memory.buffer);
  const out = core.ph_out_ptr();
  const split = out + core.ph_out_split();
  const blob = mem.subarray(split, out + core.ph_out_len());
  const value = JSON.parse(decoder.decode(mem.subarray(out, split)), (_, v) =>
    v !== null && typeof v === 'object' && Array.isArray(v.$bytes)
      ? blob.slice(v.$bytes[0], v.$bytes[0] + v.$bytes[1])
      : v,
  );
  if (status !== 0) {
    const e = new Error(value.message);
    e.name = value.name;
    e.variant = value.variant;
    throw e;
  }
  return value;
}

/** The core's version. */
export function version() {
  return call(0, { op: 'version' });
}

/** Parses a manifest and returns the number of segments its tracks list. */
export function countSegments(bytes, url) {
  return call(0, { op: 'count-segments', url: url ?? null }, bytes);
}

/** The engine, with the wasm-bindgen build's methods (see wasm/src/lib.rs). */
export class Player {
  #handle;

  constructor(config) {
    this.#handle = call(0, { op: 'new', config: config ?? null }).handle;
  }

  #input(mono, wall, args, bytes) {
    return call(this.#handle, { mono, wall, ...args }, bytes);
  }

  command(mono, wall, command) {
    this.#input(mono, wall, { op: 'command', command });
  }

  response(mono, wall, id, status, headers, body, held, firstByteAt, finalUrl) {
    this.#input(
      mono,
      wall,
      {
        op: 'response',
        id,
        status,
        headers,
        held: body ? null : held,
        first_byte_at: firstByteAt,
        final_url: finalUrl ?? null,
      },
      body,
    );
  }

  progress(mono, wall, id, received, total) {
    this.#input(mono, wall, { op: 'progress', id, received, total: total ?? null });
  }

  failed(mono, wall, id, cls, detail) {
    this.#input(mono, wall, { op: 'failed', id, class: cls, detail });
  }

  playback(mono, wall, playback) {
    this.#input(mono, wall, { op: 'playback', playback });
  }

  timeout(mono, wall) {
    this.#input(mono, wall, { op: 'timeout' });
  }

  cdmMessage(mono, wall, session, kind, message) {
    this.#input(mono, wall, { op: 'cdm-message', session, kind }, message);
  }

  cdmKeyStatuses(mono, wall, session, kids, statuses) {
    this.#input(mono, wall, { op: 'cdm-key-statuses', session, statuses }, kids);
  }

  cdmError(mono, wall, session, detail) {
    this.#input(mono, wall, { op: 'cdm-error', session, detail });
  }

  poll() {
    return call(this.#handle, { op: 'poll' });
  }

  tracks() {
    return call(this.#handle, { op: 'tracks' });
  }

  stats() {
    return call(this.#handle, { op: 'stats' });
  }

  free() {
    core.ph_drop(this.#handle);
  }
}
