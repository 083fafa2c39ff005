/**
 * The kernel's connection tracking table, read for connection counts (ipvsadm's ActiveConn / InActConn). Two
 * sources: `/proc/net/nf_conntrack` when the kernel has it and the reader runs in the namespace it asks about (no
 * process to start), else `conntrack -L -o extended` (conntrack-tools), once per family. Both print one connection a
 * line in the same shape, which {@link parseConntrackLine} reads:
 * ```
 * ipv4     2 tcp      6 431999 ESTABLISHED src=198.18.0.11 dst=198.18.0.100 sport=40000 dport=80 src=198.18.1.21 dst=198.18.0.11 sport=80 dport=40000 [ASSURED] mark=0 use=1
 * ```
 * The first address tuple is the original direction (client → VIP), the second the reply (backend → client), so a
 * DNATed connection shows the backend as the reply source. Lines stream: a table of a million entries is never held
 * in memory.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { TandemError } from '../core/errors.ts';
import { errorText } from './process.ts';

/** One direction of a tracked connection. Ports are 0 for protocols without them (icmp). */
export interface ConntrackTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** One tracked connection. */
export interface ConntrackEntry {
  family: 4 | 6;
  /** `tcp`, `udp`, `icmp`, … as conntrack names it. */
  protocol: string;
  /** The TCP state (`ESTABLISHED`, `TIME_WAIT`, …); null for protocols without one (udp). */
  state: string | null;
  orig: ConntrackTuple;
  reply: ConntrackTuple;
}

/**
 * Parses one line of `conntrack -L [-o extended]` or `/proc/net/nf_conntrack`; null for anything else (the summary
 * line, a line of another shape). Total: never throws.
 * @example parseConntrackLine('ipv4 2 udp 17 29 src=198.18.0.11 dst=198.18.0.100 sport=5000 dport=53 …')
 */
export function parseConntrackLine(line: string): ConntrackEntry | null {
  const tokens = line.trim().split(/\s+/);
  let i = 0;
  let family: 4 | 6 | null = null;
  if (tokens[0] === 'ipv4' || tokens[0] === 'ipv6') {
    family = tokens[0] === 'ipv4' ? 4 : 6;
    i = 2; // "ipv4 2"
  }
  const protocol = tokens[i];
  if (!protocol || !/^[a-z][a-z0-9-]*$/.test(protocol) || !/^\d+$/.test(tokens[i + 1] ?? '')) return null;
  i += 2;
  // The timeout (seconds left) follows, then the state for protocols that have one.
  if (/^\d+$/.test(tokens[i] ?? '')) i++;
  let state: string | null = null;
  if (/^[A-Z][A-Z0-9_]*$/.test(tokens[i] ?? '')) state = tokens[i++] ?? null;
  const tuples: Partial<Record<keyof ConntrackTuple, string>>[] = [];
  for (; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    const eq = t.indexOf('=');
    if (eq <= 0) continue;
    const k = t.slice(0, eq);
    const v = t.slice(eq + 1);
    if (k === 'src') tuples.push({ src: v });
    else if ((k === 'dst' || k === 'sport' || k === 'dport') && tuples.length > 0) {
      const cur = tuples[tuples.length - 1]!;
      if (cur[k] === undefined) cur[k] = v;
    }
    if (tuples.length > 2) break;
  }
  const [o, r] = tuples;
  if (!o?.src || !o.dst || !r?.src || !r.dst) return null;
  const port = (v: string | undefined): number => (v !== undefined && /^\d+$/.test(v) ? Number(v) : 0);
  const fam = family ?? (o.src.includes(':') ? 6 : 4);
  return {
    family: fam,
    protocol,
    state,
    orig: { src: o.src, dst: o.dst, sport: port(o.sport), dport: port(o.dport) },
    reply: { src: r.src, dst: r.dst, sport: port(r.sport), dport: port(r.dport) },
  };
}

/** Parses every connection line of a dump, skipping the others. */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const e = parseConntrackLine(line);
    if (e) out.push(e);
  }
  return out;
}

/**
 * Whether ipvsadm would count a connection as active: an ESTABLISHED TCP connection, or any UDP flow (tandem's rule:
 * a UDP flow in the table is traffic). Every other TCP state (SYN_SENT, SYN_RECV, FIN_WAIT, TIME_WAIT, CLOSE, …) is
 * inactive (InActConn).
 */
export function isActive(e: Pick<ConntrackEntry, 'protocol' | 'state'>): boolean {
  return e.protocol === 'udp' || (e.protocol === 'tcp' && e.state === 'ESTABLISHED');
}

/** Reads the table. */
export interface ConntrackReader {
  /**
   * Every tracked connection (both families); rejects with a `TND_CONNTRACK_READ` TandemError. `only.dst` is a hint:
   * IPv4 entries whose original destination is not in it may be skipped before they are parsed (a director with
   * many health checks tracks hundreds of thousands of their TIME_WAIT entries; the counts need only the VIPs').
   */
  entries(signal?: AbortSignal, only?: ConntrackFilter): AsyncIterable<ConntrackEntry>;
  /**
   * The connections of one virtual service: a dump the kernel filters (`conntrack -L -p PROTO --orig-dst VIP
   * --orig-port-dst PORT`, port 0 = any), so its cost follows the service's connections, not the table's.
   */
  service?(q: ServiceQuery, signal?: AbortSignal): AsyncIterable<ConntrackEntry>;
}

/** One virtual service's original direction, for {@link ConntrackReader.service}. */
export interface ServiceQuery {
  family: 4 | 6;
  protocol: 'tcp' | 'udp';
  vip: string;
  /** 0 = every port. */
  port: number;
}

/** Which entries a reader may keep: IPv4 original destinations (others are always read). */
export interface ConntrackFilter {
  dst: ReadonlySet<string>;
}

/**
 * Whether a raw line may be skipped under `only`: its first `dst=` (the original direction's) is IPv4 and not in the
 * set. Cheap: no parse.
 */
export function skipLine(line: string, only: ConntrackFilter | undefined): boolean {
  if (!only) return false;
  const i = line.indexOf(' dst=');
  if (i < 0) return false;
  const j = line.indexOf(' ', i + 5);
  const dst = j < 0 ? line.slice(i + 5) : line.slice(i + 5, j);
  return !dst.includes(':') && !only.dst.has(dst);
}

/** Options of {@link createConntrackReader}. */
export interface ConntrackReaderOptions {
  /**
   * Argv put before the conntrack command, e.g. `['ip', 'netns', 'exec', 'ns1']`; when set, /proc is not read
   * (it shows the reader's own namespace). @default []
   */
  wrap?: readonly string[];
  /** The conntrack binary. @default 'conntrack' */
  conntrackPath?: string;
  /** The procfs table; null = always run conntrack. @default '/proc/net/nf_conntrack' */
  procPath?: string | null;
  /** Deadline of one read. @default 10000 */
  timeoutMs?: number;
}

/**
 * The real reader: /proc/net/nf_conntrack when present (and no `wrap`), else `conntrack -L -o extended -f ipv4`
 * then `-f ipv6`.
 * @example for await (const e of createConntrackReader().entries(signal)) if (isActive(e)) n++;
 */
export function createConntrackReader(opts: ConntrackReaderOptions = {}): ConntrackReader {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const procPath = opts.procPath === undefined ? '/proc/net/nf_conntrack' : opts.procPath;
  const useProc = !opts.wrap?.length && procPath !== null && existsSync(procPath);
  const argv = (family: 'ipv4' | 'ipv6'): string[] => [
    ...(opts.wrap ?? []),
    opts.conntrackPath ?? 'conntrack',
    '-L',
    '-o',
    'extended',
    '-f',
    family,
  ];
  return {
    async *entries(signal, only) {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = (): void => ac.abort(signal?.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        if (useProc) yield* readLines(createReadStream(procPath as string), ac.signal, `read ${procPath}`, only);
        else for (const fam of ['ipv4', 'ipv6'] as const) yield* spawnLines(argv(fam), ac.signal, only);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
    },
    async *service(q, signal) {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = (): void => ac.abort(signal?.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const args = [...argv(q.family === 4 ? 'ipv4' : 'ipv6'), '-p', q.protocol, '--orig-dst', q.vip];
      if (q.port !== 0) args.push('--orig-port-dst', String(q.port));
      try {
        yield* spawnLines(args, ac.signal);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}

async function* readLines(
  input: NodeJS.ReadableStream & { destroy(e?: Error): void },
  signal: AbortSignal,
  what: string,
  only?: ConntrackFilter,
): AsyncGenerator<ConntrackEntry> {
  const onAbort = (): void => input.destroy(new Error(String(signal.reason?.message ?? 'aborted')));
  if (signal.aborted) onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (skipLine(line, only)) continue;
      const e = parseConntrackLine(line);
      if (e) yield e;
    }
  } catch (e) {
    throw new TandemError('TND_CONNTRACK_READ', `${what}: ${errorText(e)}`, { cause: e });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function* spawnLines(
  argv: string[],
  signal: AbortSignal,
  only?: ConntrackFilter,
): AsyncGenerator<ConntrackEntry> {
  const [file, ...args] = argv;
  const what = argv.join(' ');
  const child = spawn(file ?? 'conntrack', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; error?: string }>((resolve) => {
    child.on('error', (e) => resolve({ code: null, error: errorText(e) }));
    child.on('close', (code) => resolve({ code }));
  });
  const kill = (): void => {
    if (!child.pid) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  signal.addEventListener('abort', kill, { once: true });
  try {
    yield* readLines(child.stdout, signal, what, only);
    const end = await exited;
    if (signal.aborted) throw new Error(String(signal.reason?.message ?? 'aborted'));
    if (end.error) throw new Error(`cannot start: ${end.error}`);
    if (end.code !== 0) throw new Error(`exit ${end.code}: ${stderr.trim().split('\n').slice(0, 3).join(' / ')}`);
  } catch (e) {
    if (e instanceof TandemError) throw e;
    throw new TandemError('TND_CONNTRACK_READ', `${what}: ${errorText(e)}`, { cause: e });
  } finally {
    signal.removeEventListener('abort', kill);
    if (child.exitCode === null && child.signalCode === null) kill();
  }
}
