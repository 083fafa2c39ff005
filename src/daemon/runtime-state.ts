/**
 * Runtime state that survives restarts (issue 12 item 6), like HAProxy's server-state-file but implicit: what an
 * operator set at runtime — `tandem rs drain|maint|enable|weight` and `tandem standby|takeover` — is written to a
 * state file atomically (temp file, fsync, rename; mode 0600) after every change, and put back when the daemon
 * starts, unless the config changed that object since (then it is dropped, with a log line saying so: HAProxy's
 * state file masking config edits is the complaint of haproxy/haproxy#1412, #2103, #2506). A corrupt file is a
 * warning (TND_STATE_FILE), never a reason not to start.
 *
 * Which file: TANDEM_STATE_FILE, else $STATE_DIRECTORY/state.json (systemd StateDirectory=), else
 * /var/lib/tandem/state.json for the default control socket, else CONTROL.state.json beside the control socket
 * (one daemon per control socket, as the lock).
 */
import { mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TandemConfig } from '../config/schema.ts';
import { stableKey } from '../core/diff.ts';
import type { Logger } from '../core/log.ts';
import type { RsOutcome, RsVerb } from '../lb/status.ts';
import { writeSecretFile } from '../os/secret-file.ts';

/** What was set on one real server. */
export interface ServerState {
  admin?: 'drain' | 'maint';
  weight?: number;
  /** The config of the server (and its service) when it was set. */
  config: string;
}

/** What was set on one instance. */
export interface InstanceState {
  mode: 'standby' | 'takeover';
  config: string;
}

/** The state file's content. */
export interface RuntimeStateFile {
  version: 1;
  node: string;
  written: string;
  /** By `SERVICE ADDR:PORT`. */
  servers: Record<string, ServerState>;
  instances: Record<string, InstanceState>;
}

/** Most bytes of a state file that are read. */
const MAX_BYTES = 4 * 1024 * 1024;

/** The state file for a daemon with this control socket (see the module comment). */
export function stateFilePath(control: string, defaultControl: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.TANDEM_STATE_FILE) return env.TANDEM_STATE_FILE;
  if (env.STATE_DIRECTORY) return join(env.STATE_DIRECTORY.split(':')[0]!, 'state.json');
  if (control === defaultControl) return '/var/lib/tandem/state.json';
  return `${control}.state.json`;
}

/** The fingerprint of a real server's config: its own entry and what of its service decides its meaning. */
export function serverFingerprint(cfg: TandemConfig, service: string, server: string): string | undefined {
  const s = cfg.lb.services.find((x) => x.name === service);
  if (!s) return undefined;
  const rs = s.real_servers.find((r) => {
    const port = r.port ?? s.port;
    return (r.address.includes(':') ? `[${r.address}]:${port}` : `${r.address}:${port}`) === server;
  });
  if (!rs) return undefined;
  return stableKey({ vip: s.vip, fwmark: s.fwmark, port: s.port, protocol: s.protocol, rs });
}

/** The fingerprint of an instance's config. */
export function instanceFingerprint(cfg: TandemConfig, name: string): string | undefined {
  const i = cfg.vrrp.instances.find((x) => x.name === name);
  return i ? stableKey(i) : undefined;
}

/** Parses a state file's text; undefined (and why) when it is not one. Total: never throws. */
export function parseStateFile(text: string): { ok: true; state: RuntimeStateFile } | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON (${(e as Error).message})` };
  }
  const o = v as Partial<RuntimeStateFile> | null;
  if (!o || typeof o !== 'object' || o.version !== 1) return { ok: false, reason: 'not a version 1 state file' };
  if (typeof o.servers !== 'object' || o.servers === null || typeof o.instances !== 'object' || o.instances === null)
    return { ok: false, reason: 'servers or instances missing' };
  const servers: Record<string, ServerState> = {};
  for (const [k, s] of Object.entries(o.servers)) {
    if (!s || typeof s.config !== 'string') return { ok: false, reason: `server ${k}: no config fingerprint` };
    if (s.admin !== undefined && s.admin !== 'drain' && s.admin !== 'maint')
      return { ok: false, reason: `server ${k}: admin ${JSON.stringify(s.admin)}` };
    if (s.weight !== undefined && (!Number.isInteger(s.weight) || s.weight < 0 || s.weight > 65_535))
      return { ok: false, reason: `server ${k}: weight ${JSON.stringify(s.weight)}` };
    servers[k] = {
      config: s.config,
      ...(s.admin ? { admin: s.admin } : {}),
      ...(s.weight !== undefined ? { weight: s.weight } : {}),
    };
  }
  const instances: Record<string, InstanceState> = {};
  for (const [k, i] of Object.entries(o.instances)) {
    if (!i || typeof i.config !== 'string' || (i.mode !== 'standby' && i.mode !== 'takeover'))
      return { ok: false, reason: `instance ${k}: malformed` };
    instances[k] = { mode: i.mode, config: i.config };
  }
  return {
    ok: true,
    state: { version: 1, node: String(o.node ?? ''), written: String(o.written ?? ''), servers, instances },
  };
}

/** What the daemon restores through: the same calls the control socket makes. */
export interface RestoreTarget {
  rs(service: string, req: RsVerb): Promise<RsOutcome>;
  standby(names: string[]): string[];
  takeover(names: string[]): string[];
}

/** The runtime state of one daemon: records changes, saves them, restores them at start. */
export class RuntimeState {
  readonly path: string;
  readonly #log: Logger;
  #cfg: TandemConfig | undefined;
  #state: RuntimeStateFile;

  constructor(path: string, node: string, cfg: TandemConfig | undefined, log: Logger) {
    this.path = path;
    this.#log = log;
    this.#cfg = cfg;
    this.#state = { version: 1, node, written: '', servers: {}, instances: {} };
  }

  /** The config in force (a reload): fingerprints of later changes come from it. */
  setConfig(cfg: TandemConfig): void {
    this.#cfg = cfg;
  }

  /** Records a successful `tandem rs` request and saves. */
  recordRs(service: string, req: RsVerb): void {
    if (!this.#cfg) return;
    const key = `${service} ${req.server}`;
    if (req.verb === 'remove' || req.verb === 'add') {
      // Servers added at runtime are not in the config; a restart starts from the config's servers.
      delete this.#state.servers[key];
      this.#save();
      return;
    }
    const config = serverFingerprint(this.#cfg, service, req.server);
    if (config === undefined) return;
    const cur: ServerState = { ...(this.#state.servers[key] ?? {}), config };
    if (req.verb === 'drain') cur.admin = 'drain';
    else if (req.verb === 'maint') cur.admin = 'maint';
    else if (req.verb === 'enable') delete cur.admin;
    else if (req.verb === 'weight') {
      if (req.weight === null) delete cur.weight;
      else cur.weight = req.weight;
    }
    if (cur.admin === undefined && cur.weight === undefined) delete this.#state.servers[key];
    else this.#state.servers[key] = cur;
    this.#save();
  }

  /** Records standby/takeover (or their --clear) of these instances and saves. */
  recordMode(mode: 'standby' | 'takeover', names: readonly string[], clear: boolean): void {
    if (!this.#cfg) return;
    for (const n of names) {
      const config = instanceFingerprint(this.#cfg, n);
      if (clear || config === undefined) {
        if (this.#state.instances[n]?.mode === mode || config === undefined) delete this.#state.instances[n];
      } else this.#state.instances[n] = { mode, config };
    }
    this.#save();
  }

  /** Reads the file and puts back what still matches the config; logs what it restores and what it drops. */
  async restore(target: RestoreTarget): Promise<void> {
    let text: string;
    try {
      if (statSync(this.path).size > MAX_BYTES) {
        this.#log.log('warn', `TND_STATE_FILE ${this.path} is larger than ${MAX_BYTES} bytes; ignored`);
        return;
      }
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#log.log(
          'warn',
          `TND_STATE_FILE cannot read ${this.path}: ${(e as Error).message}; starting from the config`,
        );
      return;
    }
    const parsed = parseStateFile(text);
    if (!parsed.ok) {
      const aside = `${this.path}.corrupt`;
      try {
        renameSync(this.path, aside);
      } catch {
        // kept in place; the next change overwrites it
      }
      this.#log.log(
        'warn',
        `TND_STATE_FILE ${this.path} is not a state file (${parsed.reason}); moved to ${aside}, starting from the config`,
      );
      return;
    }
    const cfg = this.#cfg;
    if (!cfg) return;
    const restored: string[] = [];
    for (const [key, s] of Object.entries(parsed.state.servers)) {
      const sp = key.indexOf(' ');
      const service = key.slice(0, sp);
      const server = key.slice(sp + 1);
      const now = serverFingerprint(cfg, service, server);
      if (now !== s.config) {
        this.#log.log(
          'info',
          `runtime state of real server ${server} (${service}) dropped: ${now === undefined ? 'it is no longer in the config' : 'the config changed it since it was set'}`,
          { event: 'state-dropped', service, server },
        );
        continue;
      }
      const reqs: RsVerb[] = [];
      if (s.weight !== undefined) reqs.push({ verb: 'weight', server, weight: s.weight });
      if (s.admin === 'drain') reqs.push({ verb: 'drain', server, wait: false });
      if (s.admin === 'maint') reqs.push({ verb: 'maint', server });
      let ok = true;
      for (const r of reqs) {
        const out = await target.rs(service, r).catch((e: unknown) => ({ ok: false as const, message: String(e) }));
        if (!out.ok) {
          ok = false;
          this.#log.log(
            'warn',
            `runtime state of real server ${server} (${service}): ${r.verb} not restored: ${'message' in out ? out.message : ''}`,
          );
        }
      }
      if (ok) {
        this.#state.servers[key] = s;
        restored.push(
          `${service} ${server}: ${[s.admin, s.weight !== undefined ? `weight ${s.weight}` : ''].filter(Boolean).join(', ')}`,
        );
      }
    }
    for (const [name, i] of Object.entries(parsed.state.instances)) {
      const now = instanceFingerprint(cfg, name);
      if (now !== i.config) {
        this.#log.log(
          'info',
          `runtime state of instance ${name} (${i.mode}) dropped: ${now === undefined ? 'it is no longer in the config' : 'the config changed it since it was set'}`,
          { event: 'state-dropped', instance: name },
        );
        continue;
      }
      const done = i.mode === 'standby' ? target.standby([name]) : target.takeover([name]);
      if (done.includes(name)) {
        this.#state.instances[name] = i;
        restored.push(`${name}: ${i.mode}`);
      }
    }
    if (restored.length)
      this.#log.log('info', `restored runtime state from ${this.path}: ${restored.join('; ')}`, {
        event: 'state-restored',
      });
    // The file now says what is in force: dropped entries are gone from it.
    this.#save();
  }

  #save(): void {
    this.#state.written = new Date().toISOString();
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      writeSecretFile(this.path, `${JSON.stringify(this.#state, null, 2)}\n`);
    } catch (e) {
      this.#log.log('warn', `TND_STATE_FILE cannot write ${this.path}: ${(e as Error).message}`);
    }
  }
}
