// Web server of the Janus demo (127.0.0.1 only):
//   /                      → examples/sfu/index.html (one participant per tab)
//   /examples/sfu/*, /sframe-wasm/js/*, /sframe-wasm/pkg/*   static files
//   /janus...              → proxied to Janus's HTTP API (JANUS_URL, default http://127.0.0.1:8088/janus)
//   /keys/<room>/...       → the demo key service (keyservice.mjs: membership + epochs, no keys)
// Usually started by run.sh, which starts Janus first:  bash examples/sfu/run.sh
//   node examples/sfu/serve.mjs [port]
import { createServer, request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, normalize, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyDirectory } from './keyservice.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ALLOWED = ['examples/sfu/', 'sframe-wasm/js/', 'sframe-wasm/pkg/'];
const DENIED = ['examples/sfu/native/'];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

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
  req.pipe(up);
}

/**
 * Starts the server on 127.0.0.1:port (0 = any free port).
 * Resolves to { server, url, keys } (keys: the KeyDirectory, for tests).
 */
export function startServer({ port = 8090, janus = process.env.JANUS_URL ?? 'http://127.0.0.1:8088/janus' } = {}) {
  const keys = new KeyDirectory();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      if (url.pathname === '/janus' || url.pathname.startsWith('/janus/')) {
        proxy(req, res, janus, url.pathname.slice('/janus'.length) + url.search);
        return;
      }
      if (await keys.handle(req, res, url)) return;
      let path = decodeURIComponent(url.pathname).slice(1);
      if (path === '' || path === 'index.html') path = 'examples/sfu/index.html';
      const rel = normalize(path);
      const under = (list) => list.some((p) => rel.startsWith(p.replaceAll('/', sep)));
      if (rel.startsWith('..') || !under(ALLOWED) || under(DENIED)) {
        res.writeHead(404).end('not found');
        return;
      }
      const body = await readFile(join(ROOT, rel));
      res.writeHead(200, {
        'content-type': TYPES[extname(rel)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch {
      if (!res.headersSent) res.writeHead(404);
      res.end('not found');
    }
  });
  server.on('close', () => keys.close());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      resolve({ server, url: `http://127.0.0.1:${p}/`, keys });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8090);
  const { url } = await startServer({ port });
  const secret = process.env.ROOM_SECRET ?? '';
  const room = process.env.ROOM ?? '1234';
  console.log(`sframe SFU demo: open ${url}?room=${room}${secret ? `#secret=${secret}` : ''} in two or more Chromium or Firefox tabs (Ctrl-C to stop)`);
}
