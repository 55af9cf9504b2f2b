// Tiny static server for the browser demo and the e2e test (localhost only).
//   node examples/browser/serve.mjs [port]        (after: bash sframe-wasm/scripts/build.sh)
// Serves / → examples/browser/index.html, /examples/browser/*, /sframe-wasm/{js,pkg}/*.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, normalize, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ALLOWED = ['examples/browser/', 'sframe-wasm/js/', 'sframe-wasm/pkg/'];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** Starts the server on 127.0.0.1:port (0 = any free port); resolves to { server, url }. */
export function startServer(port = 8080) {
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname).slice(1);
    if (path === '' || path === 'index.html') path = 'examples/browser/index.html';
    const rel = normalize(path);
    if (rel.startsWith('..') || !ALLOWED.some((p) => rel.startsWith(p.replaceAll('/', sep)))) {
      res.writeHead(404).end('not found');
      return;
    }
    try {
      const body = await readFile(join(ROOT, rel));
      res.writeHead(200, {
        'content-type': TYPES[extname(rel)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      resolve({ server, url: `http://localhost:${p}/` });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  const { url } = await startServer(port);
  console.log(`sframe browser demo: open ${url} (Chromium; Ctrl-C to stop)`);
}
