/**
 * The split-brain defences' part of the schema (docs/split-brain.md): the takeover guard, redundant heartbeat paths,
 * ping targets (heartbeat's ping / ping_group with ipfail semantics), fencing before takeover, HMAC-authenticated
 * adverts, the cluster key and tandem's own peer channel. Kept apart from schema.ts so that its hunks there stay a
 * few lines.
 */
import { z } from 'zod';
import { duration, durationOr, ipAddress, name, perNode } from './schema-atoms.ts';

/** The UDP port of tandem's peer channel. @see docs/split-brain.md */
export const PEER_CHANNEL_PORT = 7694;

/** The guard's probe deadline bounds: a round that could wait longer would delay a real failover too much. */
export const GUARD_TIMEOUT_MIN_MS = 10;
export const GUARD_TIMEOUT_MAX_MS = 10_000;

const port = z.number().int().min(1).max(65535);

/** The takeover guard of one instance. */
export const guardSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'before a backup whose master went silent takes over, ask that master over other paths; ' +
          'off = plain VRRP (imported keepalived, heartbeat and Piranha files: off)',
      ),
    timeout: duration()
      .optional()
      .describe(
        'deadline of one probe round, which starts that much before Master_Down_Interval; ' +
          'default: the advert interval within 50ms..1s; 10ms..10s',
      ),
    peer_channel: z
      .boolean()
      .default(true)
      .describe("ask the master over tandem's peer channel (cluster nodes only; needs cluster.key_file)"),
    icmp: z.boolean().default(true).describe("ICMP echo to the master's addresses"),
    peer_probe: z
      .array(port)
      .default([])
      .describe("TCP ports on the master: a connect that succeeds means alive (the seed's `nc -z master 80`)"),
    fence: name.optional().describe('fencing.devices entry run when the guard cannot confirm the death of the master'),
  })
  .describe('takeover guard (docs/split-brain.md)');

/** One more heartbeat path of an instance: adverts go out on every path and any path keeps the master alive. */
export const pathSchema = z.strictObject({
  interface: z.string().min(1).describe('interface of this path'),
  unicast: z
    .strictObject({
      source: perNode(ipAddress).optional().describe('source address on this path, or a map node → address'),
      peers: z.array(ipAddress).min(1).describe('peer addresses on this path (a node skips its own)'),
    })
    .optional()
    .describe('unicast on this path instead of multicast'),
  mcast_source: perNode(ipAddress).optional().describe('source address for multicast adverts on this path'),
});

/** keepalived 2.4's auth_hmac: an HMAC-SHA256 trailer with anti-replay on every advert (its wire format). */
export const authHmacSchema = z
  .strictObject({
    key_file: z
      .string()
      .min(1)
      .optional()
      .describe('key file (hex:… or text, 32..64 bytes, mode 0600); default: cluster.key_file'),
    key_id: z.number().int().min(1).max(255).default(1).describe('key id sent in the trailer (keepalived active_key)'),
    mode: z
      .enum(['enforce', 'permissive', 'receive-only'])
      .default('enforce')
      .describe('enforce: only signed adverts count; permissive: sign, accept unsigned; receive-only: verify only'),
    anti_replay: z
      .enum(['time', 'monotonic'])
      .default('time')
      .describe('time: a freshness window on synchronised clocks plus a growing sequence; monotonic: sequence only'),
    time_window: duration()
      .optional()
      .describe('freshness window (time mode), 1s..300s; default: 3 × the advert interval, at least 5s'),
  })
  .describe('HMAC-SHA256 advert authentication, keepalived 2.4 auth_hmac wire format (docs/split-brain.md)');

/** A ping target object (heartbeat ping / ping_group, pingd): up while any of its addresses answers ICMP echo. */
export const trackPingSchema = z.strictObject({
  targets: z
    .array(ipAddress)
    .min(1)
    .describe('addresses; up while any answers (heartbeat ping_group); one address = heartbeat ping'),
  interval: durationOr(1000, 'how often to send an echo to each target'),
  timeout: durationOr(1000, 'an echo unanswered this long is lost'),
  fall: z.number().int().min(1).max(1000).default(3).describe('rounds with no answer before it counts as down'),
  rise: z.number().int().min(1).max(1000).default(1).describe('answered rounds before it counts as up again'),
  weight: z
    .number()
    .int()
    .min(-254)
    .max(254)
    .default(0)
    .describe('priority change; > 0 adds while up (ipfail: better connectivity wins), 0 = FAULT while down'),
});

/** A fence device: a fence-agents agent or a script speaking its stdin protocol. */
export const fenceDeviceSchema = z.strictObject({
  agent: z
    .string()
    .min(1)
    .describe('a fence-agents agent name (fence_ipmilan, fence_virsh; found in /usr/sbin) or a path to a script'),
  params: z
    .record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lower-case name'), perNode(z.string()))
    .default({})
    .describe('key=value lines on stdin (ipaddr, login, plug, …); a map node → value is picked for the fenced node'),
  action: z.enum(['off', 'reboot']).default('off').describe('what the agent does to the old master'),
  timeout: durationOr(30_000, 'the takeover waits this long for the agent; longer = failed'),
  retry: durationOr(30_000, 'after a failure, run the agent again no sooner than this'),
});

/** The fencing section. */
export const fencingSchema = z
  .strictObject({
    devices: z.record(name, fenceDeviceSchema).default({}).describe('fence devices by name'),
  })
  .describe('fencing before takeover (STONITH)');

/** tandem's authenticated peer channel. */
export const peerChannelSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('answer and ask the peer channel (needs cluster.key_file)'),
    port: port.default(PEER_CHANNEL_PORT).describe('UDP port, the same on every node'),
    time_window: durationOr(30_000, 'a query stamped further than this from our clock is refused (anti-replay)'),
  })
  .describe("tandem's peer channel: “is instance X master here?” (docs/split-brain.md)");

export type GuardSpec = z.output<typeof guardSchema>;
export type PathSpec = z.output<typeof pathSchema>;
export type AuthHmacSpec = z.output<typeof authHmacSchema>;
export type TrackPingSpec = z.output<typeof trackPingSchema>;
export type FenceDeviceSpec = z.output<typeof fenceDeviceSchema>;
export type PeerChannelSpec = z.output<typeof peerChannelSchema>;
