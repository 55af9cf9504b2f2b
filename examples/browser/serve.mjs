// Tiny static server for the browser demo and the e2e test (localhost only).
//   node examples/browser/serve.mjs [port]        (after: bash sframe-wasm/scripts/build.sh)
// Serves / → examples/browser/index.html, /examples/browser/*, /sframe-wasm/{js,pkg}/*
// (the server itself: examples/shared/static-server.mjs).
import { fileURLToPath } from 'node:url';
import { startStaticServer } from '../shared/static-server.mjs';

/** Starts the server on 127.0.0.1:port (0 = any free port); resolves to { server, url }. */
export async function startServer(port = 8080) {
  const { server, port: p } = await startStaticServer({
    port,
    index: 'examples/browser/index.html',
    allowed: ['examples/browser/', 'sframe-wasm/js/', 'sframe-wasm/pkg/'],
  });
  return { server, url: `http://localhost:${p}/` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  const { url } = await startServer(port);
  console.log(`sframe browser demo: open ${url} (Chromium; Ctrl-C to stop)`);
}
