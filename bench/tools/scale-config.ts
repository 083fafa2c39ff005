/**
 * The tandem config of bench/lb-scale: `services` virtual services, each health-checked (TCP) every `intervalMs`,
 * with one or two real servers drawn from a few shared listeners. Pure: numbers in, YAML text out.
 */
import type { HostPort } from './configs.ts';

/** What to generate. */
export interface ScaleConfigOptions {
  /** Number of virtual services (0: the baseline, a daemon with an empty `lb` section). */
  services: number;
  /** The listeners real servers point at (health checks connect there). */
  listeners: readonly HostPort[];
  /** Which data plane carries the services. @default 'nft' */
  dataplane?: 'nft' | 'proxy';
  /** Check interval. @default 1000 */
  intervalMs?: number;
  /** The node name (`tandem run --node`). @default 'lb' */
  node?: string;
  /** Services per VIP address; VIPs are 198.18.210.1, .2, … and ports 10000 + i. @default 250 */
  servicesPerVip?: number;
  /** `lb.max_concurrent_checks`. @default 64 (the schema's default) */
  maxConcurrentChecks?: number;
}

/** The VIP and port of service `i` (0-based). */
export function scaleVip(i: number, servicesPerVip = 250): HostPort {
  return { addr: `198.18.210.${1 + Math.floor(i / servicesPerVip)}`, port: 10_000 + (i % servicesPerVip) };
}

/** The real servers of service `i`: one listener, and a second one for every odd service. */
export function scaleRealServers(i: number, listeners: readonly HostPort[]): HostPort[] {
  const n = listeners.length;
  const first = listeners[i % n]!;
  if (i % 2 === 0 || n < 2) return [first];
  return [first, listeners[(i + 1) % n]!];
}

/** How many health-check targets (service × real server) a config of `services` services has. */
export function scaleCheckTargets(services: number, listeners: readonly HostPort[]): number {
  let n = 0;
  for (let i = 0; i < services; i++) n += scaleRealServers(i, listeners).length;
  return n;
}

/**
 * The YAML text. One service per line (flow style), so 1,000 services stay readable and quick to parse.
 * @example scaleConfig({ services: 1000, listeners: [{ addr: '198.18.211.1', port: 9000 }] })
 */
export function scaleConfig(o: ScaleConfigOptions): string {
  const interval = o.intervalMs ?? 1_000;
  const lines = [`cluster:`, `  nodes: [{ name: ${o.node ?? 'lb'} }]`, `lb:`];
  lines.push(`  max_concurrent_checks: ${o.maxConcurrentChecks ?? 64}`);
  if (o.services === 0) lines.push('  services: []');
  else lines.push('  services:');
  const check = `{ type: tcp, interval: ${interval}ms, connect_timeout: ${interval}ms }`;
  for (let i = 0; i < o.services; i++) {
    const vip = scaleVip(i, o.servicesPerVip);
    const rs = scaleRealServers(i, o.listeners)
      .map((r) => `{ address: ${r.addr}, port: ${r.port} }`)
      .join(', ');
    lines.push(
      `    - { name: svc${i}, vip: ${vip.addr}, port: ${vip.port}, scheduler: rr, dataplane: ${o.dataplane ?? 'nft'}, check: ${check}, real_servers: [${rs}] }`,
    );
  }
  return `${lines.join('\n')}\n`;
}
