import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** The web UI's directory: `ui/` at the checkout root (the same from src/ under tsx and from dist/src/). */
export function uiDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'ui');
}

/** Serves files of `root` (no build step): `/` is index.html; paths cannot leave the directory. */
export class StaticFiles {
  private readonly cache = new Map<string, { type: string; body: Buffer }>();

  constructor(private readonly root: string) {}

  get(pathname: string): { type: string; body: Buffer } | null {
    const rel = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
    const file = normalize(join(this.root, rel));
    if (!file.startsWith(this.root + sep)) return null;
    const hit = this.cache.get(file);
    if (hit) return hit;
    const type = TYPES[extname(file)];
    if (!type || !existsSync(file)) return null;
    const entry = { type, body: readFileSync(file) };
    this.cache.set(file, entry);
    return entry;
  }
}
