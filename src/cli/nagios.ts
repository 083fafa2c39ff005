/**
 * `tandem nagios …`: fetches the status of the nodes a check asks about — this node's through the control socket
 * (for NRPE), a remote node's through the HTTP API (`GET /api/v1/status` with a bearer token from `--token-file` or
 * `$TANDEM_TOKEN`) — and prints the check's one line (nagios-check.ts). Every failure to reach a node is UNKNOWN with
 * its reason. Reads are bounded in size and time.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { callDaemon, controlPath } from '../api/client.ts';
import type { DaemonStatus } from '../api/contract.ts';
import type { CliIo } from './io.ts';
import {
  type CheckResult,
  checkConfig,
  checkInstance,
  checkServer,
  checkService,
  checkVip,
  formatResult,
  NAGIOS,
  NAGIOS_USAGE,
  type NagiosArgs,
  type NodeReply,
  parseNagiosArgs,
} from './nagios-check.ts';

/** The most of a status reply that is read. @default 16 MiB */
const MAX_REPLY = 16 << 20;

/** Runs a check; returns the exit code. */
export async function runNagios(
  argv: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.out(NAGIOS_USAGE);
    return NAGIOS.UNKNOWN;
  }
  const args = parseNagiosArgs(argv);
  if ('error' in args) {
    io.out(formatResult({ code: NAGIOS.UNKNOWN, text: `usage: ${args.error}`, perf: [] }));
    return NAGIOS.UNKNOWN;
  }
  let r: CheckResult;
  try {
    r = await check(args, env);
  } catch (e) {
    r = { code: NAGIOS.UNKNOWN, text: `internal error: ${e instanceof Error ? e.message : String(e)}`, perf: [] };
  }
  io.out(formatResult(r));
  return r.code;
}

async function check(a: NagiosArgs, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const token = readToken(a, env);
  if (typeof token === 'object') return { code: NAGIOS.UNKNOWN, text: token.error, perf: [] };
  const ask = (node: string) => fetchStatus(node, a, token);
  const one = async (f: (st: DaemonStatus) => CheckResult): Promise<CheckResult> => {
    const r = await ask(a.nodes[0] ?? 'local');
    return r.ok ? f(r.status) : { code: NAGIOS.UNKNOWN, text: `${r.node}: ${r.reason}`, perf: [] };
  };
  switch (a.check) {
    case 'instance':
      return one((st) => checkInstance(st, a.name, a.expect));
    case 'service':
      return one((st) => checkService(st, a.name, a.warn, a.crit));
    case 'server':
      return one((st) => checkServer(st, a.service, a.server));
    case 'vip':
      return checkVip(a.addr, await Promise.all(a.nodes.map(ask)));
    case 'config':
      return checkConfig(await Promise.all(a.nodes.map(ask)));
  }
}

/** The bearer token: `--token-file` (first line), else `$TANDEM_TOKEN`, else none (a remote node answers 401). */
function readToken(a: NagiosArgs, env: NodeJS.ProcessEnv): string | undefined | { error: string } {
  if (a.tokenFile) {
    try {
      const text = readFileSync(a.tokenFile, 'utf8');
      if (text.length > 4096) return { error: `--token-file ${a.tokenFile}: longer than 4096 bytes, not a token` };
      const t = text.split('\n')[0]!.trim();
      if (!t) return { error: `--token-file ${a.tokenFile} is empty` };
      return t;
    } catch (e) {
      return { error: `--token-file ${a.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
  }
  return env.TANDEM_TOKEN?.trim() || undefined;
}

async function fetchStatus(node: string, a: NagiosArgs, token: string | undefined): Promise<NodeReply> {
  if (node === 'local' || node.startsWith('unix:')) {
    // `unix:PATH`: the control socket of a daemon on this host (several daemons in a lab, or a non-default socket).
    const path = node === 'local' ? controlPath(a.control) : node.slice('unix:'.length);
    const r = await callDaemon(path, 'GET', '/v1/status', undefined, a.timeoutMs);
    if (!r.ok) return { node: `local (${path})`, ok: false, reason: r.message };
    if (r.status !== 200) return { node, ok: false, reason: `HTTP ${r.status}: ${errorText(r.body)}` };
    return { node, ok: true, status: r.body as DaemonStatus };
  }
  return fetchRemote(node, a, token);
}

function errorText(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return JSON.stringify(body).slice(0, 200);
}

/** GET `<url>/api/v1/status`. Never throws. */
function fetchRemote(node: string, a: NagiosArgs, token: string | undefined): Promise<NodeReply> {
  let url: URL;
  try {
    url = new URL(`${node.replace(/\/+$/, '')}/api/v1/status`);
  } catch {
    return Promise.resolve({ node, ok: false, reason: 'not a URL' });
  }
  let ca: Buffer | undefined;
  if (a.ca) {
    try {
      ca = readFileSync(a.ca);
    } catch (e) {
      return Promise.resolve({ node, ok: false, reason: `--ca ${a.ca}: ${(e as NodeJS.ErrnoException).code ?? e}` });
    }
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: NodeReply) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = request(
      url,
      {
        method: 'GET',
        headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(ca ? { ca } : {}),
      },
      (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          if (text.length > MAX_REPLY) {
            req.destroy();
            finish({ node, ok: false, reason: `reply larger than ${MAX_REPLY} bytes` });
          }
        });
        res.on('error', (e) => finish({ node, ok: false, reason: e.message }));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            return finish({ node, ok: false, reason: `HTTP ${res.statusCode}: not JSON: ${text.slice(0, 120)}` });
          }
          if (res.statusCode !== 200) {
            const hint = res.statusCode === 401 ? ' (set $TANDEM_TOKEN or --token-file)' : '';
            return finish({ node, ok: false, reason: `HTTP ${res.statusCode}: ${errorText(body)}${hint}` });
          }
          const st = body as Partial<DaemonStatus>;
          if (typeof st?.node !== 'string' || !Array.isArray(st.instances))
            return finish({ node, ok: false, reason: 'the reply is not a tandem status' });
          finish({ node, ok: true, status: st as DaemonStatus });
        });
      },
    );
    // One deadline for the whole exchange (connect, TLS, reply), not per socket event.
    const timer = setTimeout(() => {
      req.destroy();
      finish({ node, ok: false, reason: `no reply within ${a.timeoutMs} ms` });
    }, a.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) =>
      finish({ node, ok: false, reason: `${e.code ? `${e.code} ` : ''}${e.message}` }),
    );
    req.end();
  });
}
