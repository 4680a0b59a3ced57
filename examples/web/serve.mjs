// The web demo: starts the test origin (live, two CDNs) and serves the demo page and the
// npm package on loopback. Build the package first: `cargo xtask web`.
//
//   node examples/web/serve.mjs [--port 8080] [origin flags, e.g. --rate 3000000]
//
// Then open the printed address in a browser on this machine.

import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { startOrigin, serve, PKG, ROOT } from '../../wasm/tests/harness.mjs';

const args = process.argv.slice(2);
const at = args.indexOf('--port');
const port = at >= 0 ? Number(args.splice(at, 2)[1]) : 0;
const origin = await startOrigin(args);
const here = join(ROOT, 'examples/web');
const config = JSON.stringify({
  streams: {
    'HLS (fMP4)': origin.urls.hls,
    'HLS (TS)': origin.urls['hls-ts'],
    DASH: origin.urls.dash,
    Smooth: origin.urls.smooth,
    'DASH + ClearKey': origin.urls['dash-cenc'],
  },
  cdns: origin.urls.cdns,
  services: origin.urls.index,
  clearkey: origin.urls.clearkey,
});
const html = readFileSync(join(here, 'index.html'), 'utf8').replace('/*CONFIG*/null', config);
const site = await serve(html, (p) => (p.startsWith('pkg/') ? join(PKG, p.slice(4)) : join(here, p)), port);
// Stopping the demo stops the origin with it.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
console.log(`demo: ${site.url}`);
