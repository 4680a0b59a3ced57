// Types of the browser host (player.js). The core's records arrive with camelCase keys;
// times in events are microseconds as the core gives them, in getStats() seconds.

/** Loads the WebAssembly module once (a URL, Response or bytes; default: beside player.js). */
/** Which core runs: WebAssembly, or the same Rust as plain JavaScript (no WebAssembly). */
export type EngineKind = 'wasm' | 'js';

/**
 * Loads the core once; resolves to the kind loaded. `engine`: `'auto'` (default) picks
 * WebAssembly when the browser has it. The first call decides.
 */
export function initialize(
  wasm?: string | URL | Response | BufferSource,
  engine?: EngineKind | 'auto',
): Promise<EngineKind>;

/** The core's version. */
export function version(): string;

/** Loads the module if needed and returns a player on `video`. */
export function createPlayer(video: HTMLVideoElement, options?: PlayerOptions): Promise<Player>;

/** Every error Playhead raises: `name` says where from, `variant` what happened. */
export class PlayheadError extends Error {
  name:
    | 'PlayheadError' // the core's fatal errors: variant is the class
    | 'PlayheadMediaError' // MSE or the decoder (variant 'drm' when keys were in use)
    | 'PlayheadInputError' // the host broke the calling contract (a bug in player.js)
    | 'PlayheadArgumentError'
    | 'PlayheadCrash'; // a trap inside WebAssembly: the player is dead
  variant: ErrorVariant;
  detail?: unknown;
}

export type ErrorVariant =
  | 'manifest' | 'http' | 'network' | 'timeout' | 'stale' | 'no-playable-tracks' | 'drm'
  | 'decode' | 'append' | 'source-buffer' | 'duration' | 'crash'
  | 'unknown-request' | 'time-went-back' | 'bad-argument'
  | (string & {});

/** Key systems by the core's names, each with its licence server. */
export type KeySystemName = 'clear-key' | 'widevine' | 'play-ready' | 'fair-play';

export interface LicenseOptions {
  licenseUrl?: string;
  headers?: Record<string, string>;
  /** Robustness levels to ask for, best first (`HW_SECURE_ALL`, `SW_SECURE_CRYPTO`). */
  robustness?: string[];
  certificateUrl?: string;
}

export interface Capabilities {
  max_width?: number;
  max_height?: number;
  max_bandwidth?: number;
  max_frame_rate?: { num: number; den: number };
  codecs?: string[];
  video_ranges?: string[];
  hdcp?: string;
  viewport?: { width: number; height: number };
  software_drm_max_height?: number;
}

export interface PlayerOptions {
  /** Where the .wasm is (default: beside player.js). */
  wasm?: string | URL | Response | BufferSource;
  /** `'js'`: the no-WebAssembly core; default `'auto'`. */
  engine?: EngineKind | 'auto';
  drm?: Partial<Record<KeySystemName, LicenseOptions>>;
  /** Merged over what the host probes (codecs, screen and element size). */
  capabilities?: Capabilities;
  /** Keep the player's size out of the capabilities (default: capped to it). */
  capToViewport?: boolean;
  /** Any part of the core's `Config`, snake_case as the core spells it. */
  config?: Record<string, unknown>;
}

export interface Source {
  url: string;
  cdn?: string;
  priority?: number;
}

export interface Track {
  period: number;
  id: string;
  contentType: 'video' | 'audio' | 'text' | (string & {});
  mimeType: string | null;
  codecs: string | null;
  bandwidth: number;
  width: number | null;
  height: number | null;
  language: string | null;
  label: string | null;
  selected: boolean;
}

export interface LiveWindow {
  /** Seconds of presentation time. */
  start: number;
  end: number;
  edge: number;
}

/** An engine event: `event` is its kebab-case name; other keys depend on it. */
export interface PlayheadEvent {
  event: string;
  [key: string]: unknown;
}

export interface TrackSelectedEvent extends PlayheadEvent {
  event: 'track-selected';
  contentType: string;
  from: string | null;
  to: string;
  bandwidth: number;
  reason: 'initial' | 'abr-up' | 'abr-down' | 'manual' | 'capabilities' | 'period' | 'dropped-frames';
}

export interface Stats {
  timeToFirstMedia: number | null;
  startupTime: number | null;
  stallCount: number;
  stallTime: number;
  playTime: number;
  switchCount: number;
  averageBitrate: number;
  droppedFrames: number;
  decodedFrames: number;
  retries: number;
  locationChanges: number;
  cdn: string | null;
  bandwidthEstimate: number;
  liveLatency: number | null;
  [key: string]: unknown;
}

export class Player {
  /** A player on `video`; `await initialize()` first, or use `createPlayer`. */
  constructor(video: HTMLVideoElement, options?: PlayerOptions);
  load(src: string | Source[], options?: { start?: number | 'live' }): void;
  play(): Promise<void>;
  pause(): void;
  /** Seconds of presentation time (clamped to the DVR window when live). */
  seek(seconds: number): void;
  seekToLive(): void;
  getTracks(): Track[];
  /** `null`: adaptive again. */
  selectVideoTrack(id: string | null): void;
  setAudioLanguage(language: string | null): void;
  readonly liveWindow: LiveWindow | null;
  readonly isLive: boolean;
  on(name: 'error', fn: (e: PlayheadError) => void): () => void;
  on(name: 'warning', fn: (e: PlayheadError) => void): () => void;
  on(name: 'track-selected', fn: (e: TrackSelectedEvent) => void): () => void;
  on(name: string, fn: (e: PlayheadEvent) => void): () => void;
  off(name: string, fn: (e: never) => void): void;
  getStats(): Stats | null;
  destroy(): void;
}
