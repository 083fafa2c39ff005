// What the e-mail and webhook alert tests share: one proxy-only node on 127.0.0.1 whose single real server the test
// can kill, with the test's own `alerts:` section.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/dataplane/proxy/test-support.ts';

/** Writes `DIR/t12s.yaml`: service `web` on a free port of 127.0.0.1 over `backendPort`, then `alerts` (YAML, indented as the section's body); returns its path and the service's port. */
export async function writeAlertedConfig(
  dir: string,
  backendPort: number,
  alerts: string,
): Promise<{ config: string; vport: number }> {
  const vport = await freePort();
  const config = join(dir, 't12s.yaml');
  writeFileSync(
    config,
    `cluster:
  nodes: [{ name: t12s }]
lb:
  services:
    - name: web
      vip: 127.0.0.1
      port: ${vport}
      dataplane: proxy
      check: { type: tcp, interval: 200ms, rise: 1, fall: 1, connect_timeout: 1s }
      real_servers:
        - { address: 127.0.0.1, port: ${backendPort} }
alerts:
${alerts}`,
  );
  return { config, vport };
}
