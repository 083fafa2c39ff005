/**
 * Serves the web console (dist/console: index.html, app.js, app.css, built by scripts/build.mjs) at `/` of the API
 * listener, with a strict Content-Security-Policy (no inline script or style, nothing from elsewhere, no framing),
 * nosniff, and index.html never cached. The files are read once when the listener starts; a missing build is a clear
 * 503 page, not a crash. Also registers the history sampler (`GET /api/v1/history`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiContext, ApiPlugin } from '../api/http-plugin.ts';
import { createHistoryPlugin, type HistoryOptions } from './history-plugin.ts';

/** The policy every console response carries. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** dist/console of the package this module belongs to (walking up to tandem's package.json, bundle or source). */
export function consoleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tandem')
          return join(dir, 'dist', 'console');
      } catch {
        // not ours
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dirname(fileURLToPath(import.meta.url)), 'console');
}

/** What the console plugin serves from, and how its sampler runs. */
export interface ConsoleOptions {
  /** @default dist/console of this package */
  dir?: string;
  history?: HistoryOptions | false;
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer');
}

/** The console plugin with its own options. */
export function createConsolePlugin(opts: ConsoleOptions = {}): ApiPlugin {
  return async (app: FastifyInstance, ctx: ApiContext) => {
    const dir = opts.dir ?? consoleDir();
    const files = new Map<string, { body: Buffer; type: string }>();
    if (existsSync(dir))
      for (const name of readdirSync(dir)) {
        const ext = name.slice(name.lastIndexOf('.'));
        const type = TYPES[ext];
        if (type && /^[\w.-]+$/.test(name)) files.set(name, { body: readFileSync(join(dir, name)), type });
      }
    const index = files.get('index.html');

    app.get('/', async (_req, reply) => {
      secure(reply).header('cache-control', 'no-store');
      if (!index)
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send(`tandem console: ${dir}/index.html is missing; run npm run build\n`);
      return reply.type(index.type).send(index.body);
    });
    for (const [name, f] of files) {
      if (name === 'index.html') continue;
      app.get(`/${name}`, async (_req, reply) =>
        secure(reply).header('cache-control', 'no-cache').type(f.type).send(f.body),
      );
    }
    if (opts.history !== false) await createHistoryPlugin(opts.history || {})(app, ctx);
  };
}

/** The console at `/` and the history sampler, from the built dist/console. */
export const consolePlugin: ApiPlugin = createConsolePlugin();
