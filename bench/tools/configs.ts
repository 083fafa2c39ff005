/**
 * Configuration texts for bench/lb: the real servers (nginx), the reference load balancers (HAProxy, nginx) and the
 * tandem data planes' service programs, all from one placement so every case balances the same real servers the same
 * way (round robin over three). Pure: text in, text out.
 */
import type { ServiceProgram } from '../../src/lb/dataplane.ts';
import { serverKey } from '../../src/lb/types.ts';

/** An address and port. */
export interface HostPort {
  addr: string;
  port: number;
}

/** Where everything listens in the benchmark namespace. */
export interface Placement {
  /** The virtual service every load balancer listens on. */
  vip: HostPort;
  /** The real servers, in pool order. */
  realServers: readonly HostPort[];
}

/**
 * The benchmark's placement: VIP 198.18.200.1:80 and three real servers 198.18.201.1..3:8080, all on `lo` of one
 * namespace (198.18.0.0/15 is the benchmarking range, RFC 2544; nothing routes it out of the namespace).
 */
export const PLACEMENT: Placement = Object.freeze({
  vip: { addr: '198.18.200.1', port: 80 },
  realServers: [1, 2, 3].map((i) => ({ addr: `198.18.201.${i}`, port: 8080 })),
});

/** The body real server `n` (1-based) returns: the same length for every server. */
export function realServerBody(n: number): string {
  return `hello from rs${n}\n`;
}

/** Where an nginx instance keeps its pid, error log and temp files. */
export interface NginxPaths {
  /** Directory for the pid file, the error log and temp files (must exist). */
  dir: string;
  /** Instance name, used in file names. */
  name: string;
}

const nginxCommon = (p: NginxPaths) => `worker_processes 1;
daemon off;
pid ${p.dir}/${p.name}.pid;
error_log ${p.dir}/${p.name}.err warn;
events { worker_connections 8192; }
`;

const nginxHttpCommon = (p: NginxPaths) => `  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  client_body_temp_path ${p.dir}/tmp-${p.name}-body;
  proxy_temp_path ${p.dir}/tmp-${p.name}-proxy;
`;

/**
 * A real server: nginx with one worker answering every request with a small fixed body, keep-alive on (and not
 * limited to nginx's default 1000 requests per connection), no access log.
 * @example writeFileSync('rs1.conf', realServerNginxConf(1, PLACEMENT.realServers[0], { dir, name: 'rs1' }))
 */
export function realServerNginxConf(n: number, listen: HostPort, p: NginxPaths): string {
  return `${nginxCommon(p)}http {
${nginxHttpCommon(p)}  server {
    listen ${listen.addr}:${listen.port} backlog=4096;
    default_type text/plain;
    location / { return 200 ${JSON.stringify(realServerBody(n))}; }
  }
}
`;
}

/**
 * nginx as an HTTP reverse proxy: one worker, round robin over the real servers, upstream keep-alive (`keepalive 64`,
 * HTTP/1.1, `Connection ""`), no access log.
 */
export function nginxProxyConf(pl: Placement, p: NginxPaths): string {
  const servers = pl.realServers.map((r) => `    server ${r.addr}:${r.port};\n`).join('');
  return `${nginxCommon(p)}http {
${nginxHttpCommon(p)}  upstream rs {
${servers}    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen ${pl.vip.addr}:${pl.vip.port} backlog=4096;
    location / {
      proxy_pass http://rs;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/**
 * HAProxy in `tcp` or `http` mode: one thread, round robin over the real servers, no logging; http mode reuses idle
 * server connections for any request (`http-reuse always`, like nginx's upstream keep-alive pool).
 */
export function haproxyConf(pl: Placement, mode: 'tcp' | 'http'): string {
  const servers = pl.realServers.map((r, i) => `  server rs${i + 1} ${r.addr}:${r.port}\n`).join('');
  return `global
  nbthread 1
  maxconn 8000
defaults
  mode ${mode}
  timeout connect 3s
  timeout client 30s
  timeout server 30s
${mode === 'http' ? '  http-reuse always\n' : ''}frontend fe
  bind ${pl.vip.addr}:${pl.vip.port} backlog 4096
  default_backend be
backend be
  balance roundrobin
${servers}`;
}

/**
 * The smallest kernel load balancer: one nft rule that DNATs the VIP round robin over the real servers (`numgen inc`),
 * in the `output` hook because the client is on the same host. A floor for what DNAT costs on this kernel, to set
 * tandem's nft ruleset against.
 */
export function minimalNftRuleset(pl: Placement, table = 'bench_raw'): string {
  const map = pl.realServers.map((r, i) => `${i} : ${r.addr} . ${r.port}`).join(', ');
  return `table ip ${table} {
  chain output {
    type nat hook output priority -100; policy accept;
    ip daddr ${pl.vip.addr} tcp dport ${pl.vip.port} dnat ip to numgen inc mod ${pl.realServers.length} map { ${map} }
  }
}
`;
}

/**
 * The virtual service as tandem's data planes take it: round robin over the real servers, all up with weight 1.
 * `proxy` settings only for the proxy data plane (no X-Forwarded-* headers: neither HAProxy nor nginx adds them here).
 */
export function benchServiceProgram(
  pl: Placement,
  dataplane: 'nft' | 'proxy-tcp' | 'proxy-http' | 'tandem-haproxy',
): ServiceProgram {
  const backends = pl.realServers.map((r) => ({
    addr: r.addr,
    port: r.port,
    key: serverKey(r.addr, r.port),
    weight: 1,
    op: 'up' as const,
    reason: 'up' as const,
  }));
  const program: ServiceProgram = {
    id: 'bench',
    vip: pl.vip.addr,
    port: pl.vip.port,
    protocol: 'tcp',
    family: 4,
    scheduler: 'rr',
    method: 'nat',
    persistence: null,
    quorum: 'up',
    backends,
    sorry: null,
  };
  if (dataplane === 'nft') return { ...program, snat: { kind: 'none' } };
  // tandem-haproxy (issue 15 item 5): the managed HAProxy takes the whole pool and the http settings.
  const pool =
    dataplane === 'tandem-haproxy'
      ? { pool: backends.map((b) => ({ key: b.key, addr: b.addr, port: b.port, weight: b.weight })) }
      : {};
  return {
    ...program,
    ...pool,
    proxy: {
      mode: dataplane === 'proxy-tcp' ? 'tcp' : 'http',
      listen: pl.vip.addr,
      retries: 1,
      passiveFailures: 0,
      connectTimeoutMs: 3_000,
      idleTimeoutMs: 60_000,
      forwardedFor: false,
    },
  };
}
