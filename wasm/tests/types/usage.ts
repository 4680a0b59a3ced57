// Compiled with `tsc --noEmit --strict` by browser.test.mjs: the README example and the
// API, type-checked against js/player.d.ts.
import { createPlayer, PlayheadError, type Track, type Stats } from '../../js/player.js';

async function main(video: HTMLVideoElement): Promise<void> {
  const player = await createPlayer(video, { drm: { 'clear-key': { licenseUrl: 'https://example.com/ck' } } });
  player.on('error', (e: PlayheadError) => console.error(e.name, e.variant, e.message));
  player.on('track-selected', (e) => console.log(`${e.contentType}: ${e.to} (${e.reason})`));
  player.load([{ url: 'https://a.example/m.mpd', cdn: 'a' }, { url: 'https://b.example/m.mpd' }], { start: 'live' });
  await player.play();
  player.seek(30);
  player.seekToLive();
  const tracks: Track[] = player.getTracks();
  player.selectVideoTrack(tracks.find((t) => t.contentType === 'video')?.id ?? null);
  const stats: Stats | null = player.getStats();
  console.log(stats?.averageBitrate, player.liveWindow?.edge, player.isLive);
  player.destroy();
}

export { main };
