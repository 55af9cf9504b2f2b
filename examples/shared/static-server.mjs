// The examples' local web server (127.0.0.1 only), shared by examples/browser/serve.mjs and
// examples/sfu/serve.mjs: serves files of this repository from an allow-list of folders, and
// hands every other request to the example's own routes first.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, normalize, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: the paths below are relative to it. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/**
 * Starts a server on 127.0.0.1:port (0 = any free port). Resolves to { server, port }.
 *
 * - `routes(req, res, url)` (optional) sees each request first; it returns true (or a promise
 *   of true) when it has answered the request.
 * - Otherwise `/` and `/index.html` serve `index`, and any other path is served only if it lies
 *   under one of `allowed` and under none of `denied` (folders of the repository, with '/'
 *   and a trailing '/'). Everything else, and any error, is a 404. No caching.
 */
export function startStaticServer({ port, index, allowed, denied = [], routes = null }) {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      if (routes && (await routes(req, res, url))) return;
      let path = decodeURIComponent(url.pathname).slice(1);
      if (path === '' || path === 'index.html') path = index;
      const rel = normalize(path);
      const under = (list) => list.some((p) => rel.startsWith(p.replaceAll('/', sep)));
      if (rel.startsWith('..') || !under(allowed) || under(denied)) {
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
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, port: server.address().port }));
  });
}
