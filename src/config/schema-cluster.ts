/**
 * The cluster's one config (cluster/, docs/cluster.md): where this node's peer listener listens (mutual TLS with the
 * cluster CA of `tandem cluster init`), the other nodes' listeners, the certificate paths, where versions are kept.
 * Every key is optional: a node without `cluster.listen` has no peer listener and runs its file alone. The defaults
 * are applied by cluster/settings.ts, so they are written in the descriptions.
 */
import { z } from 'zod';
import { perNode } from './schema-atoms.ts';

/** `ADDR:PORT` or `[ADDR6]:PORT`. */
const hostPort = z
  .string()
  .regex(
    /^(\[[0-9A-Fa-f:.]+\]|[0-9.]+|[A-Za-z0-9.-]+):\d{1,5}$/,
    'ADDR:PORT, e.g. 198.18.0.11:7695 ([ADDR]:PORT for IPv6)',
  );

/** `https://ADDR:PORT`. */
const peerUrl = z
  .string()
  .regex(
    /^https:\/\/(\[[0-9A-Fa-f:.]+\]|[0-9.]+|[A-Za-z0-9.-]+):\d{1,5}\/?$/,
    'https://ADDR:PORT, e.g. https://198.18.0.12:7695',
  );

/** The keys the cluster block gains for the shared config (merged into `cluster` in schema.ts). */
export const clusterConfigKeys = {
  listen: perNode(hostPort)
    .optional()
    .describe(
      "this node's peer listener (mutual TLS, cluster CA): ADDR:PORT, or a map node → ADDR:PORT; none = no config sharing",
    ),
  peers: z
    .array(peerUrl)
    .optional()
    .describe("the other nodes' peer listeners, https://ADDR:PORT (a node skips its own); default none"),
  tls: z
    .strictObject({
      ca: z.string().min(1).optional().describe('cluster CA certificate; default STATE_DIR/cluster/ca.crt'),
      cert: z.string().min(1).optional().describe("this node's certificate; default STATE_DIR/cluster/node.crt"),
      key: z.string().min(1).optional().describe("this node's key, mode 0600; default STATE_DIR/cluster/node.key"),
    })
    .optional()
    .describe('certificate paths of the peer listener (made by tandem cluster init / join)'),
  state_dir: perNode(z.string().startsWith('/'))
    .optional()
    .describe('where tandem keeps its state (certificates, config versions); default /var/lib/tandem'),
  history: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('config versions kept on disk (tandem config history, rollback); default 20'),
};
