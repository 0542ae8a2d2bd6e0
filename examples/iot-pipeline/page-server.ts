import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Endpoints } from './endpoints.js';

/**
 * Serves the live page (index.html), the stompjs browser bundle from node_modules, and
 * /config.js telling the page where the broker's STOMP-over-WebSocket endpoint is.
 */
export function startPageServer(ep: Endpoints, port: number): Promise<Server> {
  const require = createRequire(import.meta.url);
  // The bundle is not in the package's exports: find it next to the package's main file.
  const stompjs = readFileSync(join(dirname(require.resolve('@stomp/stompjs')), 'stomp.umd.min.js'));
  const page = readFileSync(join(import.meta.dirname, 'index.html'));
  const server = createServer((req, res) => {
    const host = ep.host === '127.0.0.1' || ep.host === '::1' ? '' : ep.host;
    if (req.url === '/stomp.umd.min.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(stompjs);
    else if (req.url === '/config.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(`window.PB = ${JSON.stringify({ host, port: ep.http })};`);
    else if (req.url === '/' || req.url === '/index.html') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    // Browsers ask for it on every page load; a 404 shows up as an error in their console.
    else if (req.url === '/favicon.ico') res.writeHead(204).end();
    else res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}
