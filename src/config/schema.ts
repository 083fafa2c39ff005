/**
 * The single source of truth for tandem's configuration (Rule 7): types, validation, defaults and the generated
 * reference in docs/config.md all come from the zod schemas below. One file describes the whole cluster, so every
 * node can run the very same file; values that differ per node (priority, unicast source) take a map by node name.
 */
import { z } from 'zod';
// HTTP API (issue 12): its own file
import { apiSchema } from './schema-api.ts';
import { duration, durationOr, ipAddress, name, parsePrefixed, perNode, vipSchema, vipText } from './schema-atoms.ts';
// the cluster's shared config (src/cluster/): peer listener, peers, certificates, versions kept
import { clusterConfigKeys } from './schema-cluster.ts';
import { groupSchema } from './schema-groups.ts';
import { lbSchema } from './schema-lb.ts';
import {
  authHmacSchema,
  fencingSchema,
  guardSchema,
  pathSchema,
  peerChannelSchema,
  trackPingSchema,
} from './schema-split-brain.ts';

export { duration, ipAddress, parsePrefixed, vipSchema };

/** A tracked object reference with an optional weight override. */
const trackRef = z.strictObject({
  name: z.string().min(1).describe('the tracked object'),
  weight: z.number().int().min(-254).max(254).optional().describe('overrides the object weight; 0 = FAULT when down'),
  reverse: z.boolean().optional().describe('invert the direction of the weight'),
});

/** keepalived vrrp_script: a command run at an interval, with rise/fall. */
export const scriptSchema = z.strictObject({
  command: z.string().min(1).describe('command line run without a shell'),
  interval: durationOr(1000, 'how often to run it'),
  timeout: duration().optional().describe('kill it after this long; default: the interval'),
  weight: z.number().int().min(-253).max(253).default(0).describe('priority change; 0 = FAULT when failing'),
  reverse: z.boolean().default(false).describe('invert the direction of the weight'),
  rise: z.number().int().min(1).max(1000).default(1).describe('successes before it counts as up'),
  fall: z.number().int().min(1).max(1000).default(1).describe('failures before it counts as down'),
  user: z.string().optional().describe('run as this user'),
  init_fail: z.boolean().default(false).describe('start in the failed state'),
});

/** keepalived track_file: a file holding an integer, multiplied by the weight. */
export const trackFileSchema = z.strictObject({
  path: z.string().min(1).describe('file holding an integer'),
  weight: z.number().int().min(-254).max(254).default(1).describe('multiplier; 0 = FAULT when the value is not 0'),
  reverse: z.boolean().default(false).describe('invert the direction of the weight'),
  init_file: z
    .union([z.number().int().min(-254).max(254), z.boolean()])
    .optional()
    .describe('create the file with this value'),
});

const notifySchema = z
  .strictObject({
    master: z.string().optional().describe('run on becoming MASTER'),
    backup: z.string().optional().describe('run on becoming BACKUP'),
    fault: z.string().optional().describe('run on entering FAULT'),
    stop: z.string().optional().describe('run when the instance stops'),
    any: z.string().optional().describe('run on every transition with keepalived args: TYPE NAME STATE PRIORITY'),
  })
  .describe('notify scripts, called with keepalived arguments');

/** One VRRP instance (keepalived vrrp_instance). */
export const instanceSchema = z.strictObject({
  name: name.describe('instance name, e.g. VI_1'),
  interface: z.string().min(1).describe('interface the adverts go out on'),
  vrid: z.number().int().min(1).max(255).describe('virtual_router_id, 1..255'),
  version: z
    .union([z.literal(2), z.literal(3)])
    .default(3)
    .describe('VRRP version; 2 = RFC 3768, 3 = RFC 5798'),
  priority: perNode(z.number().int().min(1).max(255))
    .default(100)
    .describe('1..255 (255 = address owner); a number, or a map node → priority'),
  advert_interval: durationOr(1000, 'advertisement interval; v2 whole seconds', 'advert_interval'),
  initial_state: z.enum(['backup', 'master']).default('backup').describe('master = take over at once at startup'),
  preempt: z.boolean().default(true).describe('false = keepalived nopreempt'),
  preempt_delay: durationOr(0, 'wait this long before preempting a lower master', 'preempt_delay'),
  accept: z.boolean().default(true).describe('Accept_Mode: accept packets to the VIPs while master'),
  auth: z
    .strictObject({
      type: z.enum(['pass']).describe('PASS (legacy v2 only)'),
      password: z.string().min(1).max(8).describe('up to 8 characters, sent in clear text'),
    })
    .optional()
    .describe('v2 authentication'),
  v3_checksum: z
    .enum(['pseudo-header', 'message'])
    .default('pseudo-header')
    .describe('v3/IPv4 checksum form: pseudo-header (keepalived) or message (RFC 9568)'),
  vips: z.array(vipSchema).default([]).describe('virtual addresses'),
  unicast: z
    .strictObject({
      source: perNode(ipAddress).optional().describe('source address, or a map node → address'),
      peers: z.array(ipAddress).min(1).describe('peer addresses (a node skips its own)'),
    })
    .optional()
    .describe('unicast instead of multicast'),
  mcast_source: perNode(ipAddress).optional().describe('source address for multicast adverts'),
  track: z
    .strictObject({
      interfaces: z.array(trackRef).default([]).describe('interfaces; default weight 0'),
      scripts: z.array(trackRef).default([]).describe('names of vrrp.scripts'),
      files: z.array(trackRef).default([]).describe('names of vrrp.track_files'),
      pings: z.array(trackRef).default([]).describe('names of vrrp.track_pings'),
    })
    .default({ interfaces: [], scripts: [], files: [], pings: [] })
    .describe('tracked objects'),
  notify: notifySchema.default({}),
  garp: z
    .strictObject({
      master_delay: durationOr(5000, 'delay before the second gratuitous ARP burst'),
      master_repeat: z.number().int().min(1).max(255).default(5).describe('gratuitous ARPs per burst'),
      master_refresh: durationOr(0, 'refresh period while master; 0 = off'),
      lower_prio_repeat: z
        .number()
        .int()
        .min(0)
        .max(255)
        .optional()
        .describe(
          'gratuitous ARPs a master sends when it hears a lower-priority advert (keepalived garp_lower_prio_repeat), so that clients a split brain turned to the other node come back; 0 = none; default: master_repeat',
        ),
      interval: durationOr(0, 'gap between the gratuitous ARPs of a burst (keepalived vrrp_garp_interval); 0 = none'),
      na_interval: durationOr(
        0,
        'gap between the unsolicited neighbour advertisements of a burst (keepalived vrrp_gna_interval); 0 = none',
      ),
    })
    .default({ master_delay: 5000, master_repeat: 5, master_refresh: 0, interval: 0, na_interval: 0 })
    .describe('gratuitous ARP / unsolicited NA'),
  track_primary: z
    .boolean()
    .default(true)
    .describe('FAULT while the instance interface is down (keepalived dont_track_primary = false)'),
  down_timer_adverts: z.number().int().min(1).max(100).default(3).describe('adverts missed before master down'),
  lower_prio_no_advert: z
    .boolean()
    .default(false)
    .describe('false = answer a lower-priority advert at once (RFC 9568)'),
  vmac: z
    .strictObject({
      name: z
        .string()
        .regex(/^[A-Za-z0-9_.:-]{1,15}$/, 'an interface name of at most 15 characters')
        .optional()
        .describe('the macvlan interface; default vrrp.VRID'),
      xmit_base: z
        .boolean()
        .default(false)
        .describe('send and read adverts on the base interface, not the vmac (keepalived vmac_xmit_base)'),
    })
    .optional()
    .describe('the vips live on a macvlan with the virtual router MAC 00:00:5e:00:01:VRID (keepalived use_vmac)'),
  virtual_routes: z
    .array(z.string().min(1))
    .default([])
    .describe('routes present while master, each as `ip route` arguments (keepalived virtual_routes)'),
  virtual_rules: z
    .array(z.string().min(1))
    .default([])
    .describe('policy rules present while master, each as `ip rule` arguments (keepalived virtual_rules)'),
  skip_check_adv_addr: z
    .boolean()
    .default(false)
    .describe("a backup skips checking the address list of its current master's adverts (keepalived)"),
  // split-brain defences (schema-split-brain.ts, docs/split-brain.md)
  guard: guardSchema.default({ enabled: true, peer_channel: true, icmp: true, peer_probe: [] }),
  paths: z
    .array(pathSchema)
    .default([])
    .describe('more heartbeat paths: adverts go out on each, any one keeps the master'),
  auth_hmac: authHmacSchema.optional(),
});

/** keepalived static_ipaddress / static_routes / static_rules: present while the daemon runs, whatever the state. */
export const staticSchema = z
  .strictObject({
    addresses: z
      .array(
        z.strictObject({
          address: vipText.describe('ADDR[/LEN]'),
          dev: z.string().min(1).describe('device'),
          label: z.string().min(1).optional().describe('IPv4 address label'),
        }),
      )
      .default([])
      .describe('addresses, each with its dev (keepalived static_ipaddress)'),
    routes: z.array(z.string().min(1)).default([]).describe('routes as `ip route` arguments (static_routes)'),
    rules: z.array(z.string().min(1)).default([]).describe('policy rules as `ip rule` arguments (static_rules)'),
  })
  .describe('network state put in place at start and left in place at stop');

/** keepalived vrrp_sync_group: instances that change state together. */
export const syncGroupSchema = z.strictObject({
  name: name.describe('group name'),
  members: z.array(z.string()).min(1).describe('instance names'),
  tracking_weight: z
    .boolean()
    .default(false)
    .describe('keep tracker weights of members; false = a failed tracker faults the group (keepalived)'),
  notify: notifySchema.default({}),
});

/** A cluster node. */
export const nodeSchema = z.strictObject({
  name: name.describe('node name (hostname by default)'),
  address: ipAddress.optional().describe('primary address; used by the simulator and the demo'),
  addresses: z
    .array(ipAddress)
    .default([])
    .describe('more addresses of the node (other networks): the guard and the peer channel try them too'),
});

/** The whole tandem configuration file. */
export const configSchema = z.strictObject({
  cluster: z
    .strictObject({
      name: z.string().default('tandem').describe('cluster name'),
      nodes: z.array(nodeSchema).default([]).describe('the nodes that run this file'),
      key_file: z
        .string()
        .min(1)
        .optional()
        .describe(
          "file with the cluster's shared key, mode 0600: a key (hex:… or text, 32..64 bytes) or heartbeat's " +
            'authkeys (auth N, N sha1|md5 SECRET); the peer channel and auth_hmac use it; it is never printed',
        ),
      peer_channel: peerChannelSchema.default({ enabled: true, port: 7694, time_window: 30_000 }),
      // the cluster's shared config (src/cluster/, docs/cluster.md)
      ...clusterConfigKeys,
    })
    .default({ name: 'tandem', nodes: [], peer_channel: { enabled: true, port: 7694, time_window: 30_000 } }),
  vrrp: z
    .strictObject({
      scripts: z.record(name, scriptSchema).default({}).describe('vrrp_script objects by name'),
      track_files: z.record(name, trackFileSchema).default({}).describe('track_file objects by name'),
      track_pings: z.record(name, trackPingSchema).default({}).describe('ping target objects by name (heartbeat ping)'),
      instances: z.array(instanceSchema).default([]).describe('VRRP instances'),
      sync_groups: z.array(syncGroupSchema).default([]).describe('sync groups'),
      static: staticSchema.default({ addresses: [], routes: [], rules: [] }),
    })
    .default({
      scripts: {},
      track_files: {},
      track_pings: {},
      instances: [],
      sync_groups: [],
      static: { addresses: [], routes: [], rules: [] },
    }),
  lb: lbSchema.default({ services: [], max_concurrent_checks: 64 }).describe('load balancing: virtual services'),
  groups: z.array(groupSchema).default([]).describe('resource groups, run by the owner of each'),
  fencing: fencingSchema.default({ devices: {} }),
  // HTTP API (issue 12, src/config/schema-api.ts)
  api: apiSchema.optional().describe('the HTTP API: listener, TLS, users, audit, limits (docs/api.md)'),
});

/** A validated configuration, with defaults filled in. Frozen once loaded. */
export type TandemConfig = z.output<typeof configSchema>;
/** A validated instance. */
export type InstanceSpec = z.output<typeof instanceSchema>;
/** A config as written by an operator (before defaults). */
export type TandemConfigInput = z.input<typeof configSchema>;
/** A validated sync group. */
export type SyncGroupSpec = z.output<typeof syncGroupSchema>;
