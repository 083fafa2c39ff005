/**
 * Resource groups (heartbeat haresources, Pacemaker groups): ordered resources started left to right on the node that
 * owns the group and stopped right to left when it stops owning it. The owner is a VRRP instance or sync group today.
 */
import { z } from 'zod';
import { durationOr, name, vipSchema } from './schema-atoms.ts';

/** Monitor and call timeouts shared by every resource kind. */
const common = {
  id: name.optional().describe('resource name in logs and status; default: type and main parameter'),
  monitor_interval: durationOr(10_000, 'run the monitor action this often; 0 = no monitoring'),
  monitor_timeout: durationOr(20_000, 'a monitor call that takes longer fails'),
  start_timeout: durationOr(20_000, 'a start call that takes longer fails'),
  stop_timeout: durationOr(20_000, 'a stop call that takes longer fails'),
};

const vipResource = z.strictObject({
  type: z.literal('vip').describe('add an address and announce it by gratuitous ARP / NA (heartbeat IPaddr2)'),
  address: vipSchema.describe('ADDR[/LEN], or { address, dev, label }'),
  interface: z.string().min(1).optional().describe("device; default: the owner instance's interface"),
  ...common,
});

const serviceResource = z.strictObject({
  type: z.literal('service').describe('a systemd unit, or an init script where systemd does not run'),
  unit: z.string().min(1).describe('unit or init script name, e.g. nginx'),
  ...common,
});

const lsbResource = z.strictObject({
  type: z.literal('lsb').describe('an LSB init script called with start / stop / status'),
  script: z.string().min(1).describe('path, or a name under /etc/init.d or /etc/ha.d/resource.d'),
  args: z.array(z.string()).default([]).describe('arguments before the action (heartbeat `name::a::b`)'),
  ...common,
});

const ocfResource = z.strictObject({
  type: z.literal('ocf').describe('an OCF resource agent (API 1.1)'),
  agent: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$/, 'PROVIDER:TYPE, e.g. heartbeat:IPaddr2')
    .describe('PROVIDER:TYPE under OCF_ROOT/resource.d'),
  params: z.record(z.string(), z.string()).default({}).describe('OCF_RESKEY_ parameters'),
  ...common,
});

const scriptResource = z.strictObject({
  type: z.literal('script').describe('commands for start, stop and monitor (exit 0 = ok, 7 = not running)'),
  start: z.string().min(1).describe('start command, run without a shell'),
  stop: z.string().min(1).describe('stop command'),
  monitor: z.string().min(1).optional().describe('monitor command; none = never monitored'),
  ...common,
});

const lbResource = z.strictObject({
  type: z.literal('lb').describe("the load balancer's virtual services, served while the group runs here"),
  services: z.array(name).min(1).describe('names of lb.services'),
  ...common,
});

const fsResource = z.strictObject({
  type: z.literal('fs').describe('mount a filesystem (runs the OCF Filesystem agent)'),
  device: z.string().min(1).describe('device, or host:/export for NFS'),
  directory: z.string().startsWith('/').describe('mount point'),
  fstype: z.string().min(1).describe('filesystem type, e.g. ext4, nfs'),
  options: z.string().optional().describe('mount options'),
  ...common,
});

/** One resource of a group. */
export const resourceSchema = z.discriminatedUnion('type', [
  vipResource,
  serviceResource,
  lsbResource,
  ocfResource,
  scriptResource,
  lbResource,
  fsResource,
]);

/** A resource group. */
export const groupSchema = z.strictObject({
  name: name.describe('group name'),
  owner: name.describe('VRRP instance or sync group whose master runs the group'),
  resources: z.array(resourceSchema).min(1).describe('started in this order, stopped in reverse'),
  migration_threshold: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(3)
    .describe('monitor failures restarted in place before the group moves to a peer'),
  failure_timeout: durationOr(0, 'forget failures older than this; 0 = never'),
  maintenance: z.boolean().default(false).describe('neither start nor stop anything of this group'),
  fence: name
    .optional()
    .describe('fencing.devices entry: its owner fences the old master before taking over (docs/split-brain.md)'),
});

export type ResourceSpec = z.output<typeof resourceSchema>;
export type GroupSpec = z.output<typeof groupSchema>;
