// Web server of the Janus demo (127.0.0.1 only):
//   /                      → examples/sfu/index.html (one participant per tab)
//   /examples/sfu/*, /sframe-wasm/js/*, /sframe-wasm/pkg/*   static files (not examples/sfu/native/;
//                          the server itself: examples/shared/static-server.mjs)
//   /janus...              → proxied to Janus's HTTP API (JANUS_URL, default http://127.0.0.1:8088/janus)
//   /keys/<room>/...       → the demo key service (keyservice.mjs: membership + epochs, no keys)
// Usually started by run.sh, which starts Janus first:  bash examples/sfu/run.sh
//   node examples/sfu/serve.mjs [port]
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { KeyDirectory } from './keyservice.mjs';
import { startStaticServer } from '../shared/static-server.mjs';

/** Forwards a request to Janus's HTTP API (same origin for the page: no CORS needed). */
function proxy(req, res, janus, path) {
  const target = new URL(janus);
  const up = httpRequest(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: target.pathname.replace(/\/$/, '') + path,
      headers: { 'content-type': 'application/json' },
      // No keep-alive socket to Janus outliving the request (it held node up after tests).
      agent: false,
    },
    (r) => {
      res.writeHead(r.statusCode ?? 502, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      r.pipe(res);
    },
  );
  up.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ janus: 'error', error: { code: 502, reason: `Janus unreachable: ${e.message}` } }));
  });
  req.on('aborted', () => up.destroy());
  // The page went away before Janus answered (a long poll when the browser closes): Node 20
  // fires no 'aborted' for a GET whose body has ended, so the upstream request would wait for
  // Janus's long-poll timeout and keep the process alive after the tests.
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}

/**
 * Starts the server on 127.0.0.1:port (0 = any free port).
 * Resolves to { server, url, keys } (keys: the KeyDirectory, for tests).
 */
export async function startServer({ port = 8090, janus = process.env.JANUS_URL ?? 'http://127.0.0.1:8088/janus' } = {}) {
  const keys = new KeyDirectory();
  const routes = (req, res, url) => {
    if (url.pathname === '/janus' || url.pathname.startsWith('/janus/')) {
      proxy(req, res, janus, url.pathname.slice('/janus'.length) + url.search);
      return true;
    }
    return keys.handle(req, res, url);
  };
  let server;
  try {
    ({ server, port } = await startStaticServer({
      port,
      index: 'examples/sfu/index.html',
      allowed: ['examples/sfu/', 'sframe-wasm/js/', 'sframe-wasm/pkg/'],
      denied: ['examples/sfu/native/'],
      routes,
    }));
  } catch (e) {
    keys.close();
    throw e;
  }
  server.on('close', () => keys.close());
  return { server, url: `http://127.0.0.1:${port}/`, keys };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8090);
  const { url } = await startServer({ port });
  const secret = process.env.ROOM_SECRET ?? '';
  const room = process.env.ROOM ?? '1234';
  console.log(`sframe SFU demo: open ${url}?room=${room}${secret ? `#secret=${secret}` : ''} in two or more Chromium or Firefox tabs (Ctrl-C to stop)`);
}
