/**
 * The etcd part of the schema (docs/etcd.md): which elector decides ownership (`election`), and how to reach etcd
 * and lease from it (`etcd`). Kept apart from schema.ts so that its hunk there stays two lines.
 */
import { z } from 'zod';
import { durationOr } from './schema-atoms.ts';

/** Who decides ownership. */
export const electionSchema = z
  .enum(['vrrp', 'etcd', 'vrrp+etcd'])
  .default('vrrp')
  .describe(
    'who decides who owns a group: vrrp = VRRP adverts alone (keepalived); etcd = an etcd lease per resource group, ' +
      'any number of directors, no VRRP (groups own their VIPs with vip resources); vrrp+etcd = VRRP on the segment ' +
      'with etcd as quorum witness: a VRRP master must also hold its instance’s lease (docs/etcd.md)',
  );

const endpoint = z
  .string()
  .regex(/^https?:\/\/[^\s/]+$/, 'http://HOST:PORT or https://HOST:PORT')
  .describe('an etcd client URL');

/** How to reach etcd and lease from it. */
export const etcdSchema = z
  .strictObject({
    endpoints: z.array(endpoint).min(1).describe('etcd client URLs (every member, so that one down is no outage)'),
    prefix: z
      .string()
      .regex(/^\/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$/, 'an absolute key path like /tandem/web')
      .optional()
      .describe('keys live under it: PREFIX/owners/…, PREFIX/config/…, PREFIX/state/…; default /tandem/CLUSTER_NAME'),
    lease_ttl: durationOr(3_000, 'the lease TTL asked of etcd (whole seconds, at least 2s)'),
    renew_interval: durationOr(500, 'a keepalive this often; must be less than lease_ttl − safety_margin'),
    safety_margin: durationOr(
      1_000,
      'an owner that could not renew steps down this long before its lease can expire (monotonic clock)',
    ),
    request_timeout: durationOr(500, 'an etcd request that takes longer fails'),
    no_quorum_policy: z
      .enum(['stop', 'freeze', 'ignore'])
      .default('stop')
      .describe(
        'when this node cannot renew its lease in time (Pacemaker’s names): stop = give up every group, VIPs ' +
          'removed (safe: no two owners); freeze = keep what is owned, take nothing new, until etcd says the lease ' +
          'is gone; ignore = (vrrp+etcd only) VRRP alone decides while etcd is unreachable',
      ),
    tls: z
      .strictObject({
        ca: z.string().min(1).describe('PEM file of the CA that signed the etcd servers'),
        cert: z.string().min(1).optional().describe('client certificate (PEM) for mutual TLS'),
        key: z.string().min(1).optional().describe('client key (PEM, mode 0600) for mutual TLS'),
      })
      .optional()
      .describe('TLS for https endpoints'),
    config_watch: z
      .boolean()
      .default(false)
      .describe('apply the cluster config stored in etcd (tandem config apply) when a new version is committed'),
  })
  .optional()
  .describe('the etcd cluster of `election: etcd | vrrp+etcd` and of the config store (docs/etcd.md)');

export type EtcdSpec = NonNullable<z.output<typeof etcdSchema>>;
