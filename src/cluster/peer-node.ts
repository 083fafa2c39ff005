/**
 * One node's part in the cluster's shared config, on the disks of the nodes (the "disk/peer" backend): it answers its
 * peers (prepare, commit, abort, its head version, its running text and status, and joins), coordinates an apply
 * as the node the operator asked (two phases: prepare everywhere, then commit; any refusal aborts everywhere with
 * the refusing node's diagnostics), catches up with the newest version of its peers at start and every
 * `syncIntervalMs`, and reports version, hash and divergence. Effects come in as ports: the version store, the
 * peer transport, the running file, the daemon's reload and status.
 */
import type { DaemonStatus, ReloadSummary } from '../api/contract.ts';
import type { Diagnostic } from '../config/diagnostics.ts';
import { type ConfigDiff, diffConfig } from '../config/diff.ts';
import { type ConfigFormat, type ConfigFs, detectFormat } from '../config/load.ts';
import type { Logger } from '../core/log.ts';
import type { PeerReply, PeerRequest, PeerResult } from '../os/peer-https.ts';
import type { ConfigVersion, PublishRefusal } from './backend.ts';
import { compareConfigs, type PeerComparison } from './compare.ts';
import { checkForNode, loadText, locatorOf } from './config-check.ts';
import { configHash } from './hash.ts';
import type { HostFacts } from './host-check.ts';
import { type ClusterSettings, listenerUrl } from './settings.ts';
import type { VersionStore } from './store.ts';
import { unifiedDiff } from './text-diff.ts';

/** How often a node asks its peers for their newest version (the reconnect path of catching up). @default 10 s */
export const SYNC_INTERVAL_MS = 10_000;

/** What a node needs from its surroundings. */
export interface PeerNodeDeps {
  settings: ClusterSettings;
  /** The daemon's config file (`tandem run -c`): what a commit writes and the reload reads. */
  runningPath: string;
  configId?: string;
  store: VersionStore;
  fs: ConfigFs;
  facts(): HostFacts;
  readRunning(): string | undefined;
  writeRunning(text: string): void;
  /** The daemon's reload path (SIGHUP, `tandem reload`). */
  reload(): { ok: true; summary: ReloadSummary } | { ok: false; diagnostics: Diagnostic[] };
  status(): Promise<DaemonStatus>;
  /** One request to a peer over mutual TLS. */
  request(url: string, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs?: number): Promise<PeerResult>;
  /** Answers a join (the node holding the CA key). */
  join?(body: unknown): Promise<{ ok: true; cert: string; ca: string } | { ok: false; message: string }>;
  /** The cluster CA certificate, PEM (served to joining nodes). */
  caPem(): string;
  log: Logger;
  /** ISO time now (injected clock). */
  now(): string;
}

/** A node's head: its newest version and what it runs. */
export interface NodeHead {
  node: string;
  /** Newest stored version (0: none). */
  version: number;
  /** The stored version's hash, when there is one. */
  versionHash?: string;
  /** Hash of the file it runs. */
  hash: string;
  /** The version it runs: the stored one when the file is that version's text, else 0 (edited by hand). */
  running: number;
  format: ConfigFormat;
}

/** One row of `tandem config status`. */
export interface NodeConfigStatus {
  node: string;
  url: string;
  self: boolean;
  reachable: boolean;
  version?: number;
  hash?: string;
  error?: string;
}

/** `tandem config status`: every node, and whether the reachable ones differ. */
export interface ConfigStatusReport {
  nodes: NodeConfigStatus[];
  divergent: boolean;
  unreachable: number;
}

/** An apply request. */
export interface ApplyRequest {
  text: string;
  /** The operator's file name, for diagnostics. */
  file: string;
  format?: ConfigFormat;
  /** Refuse unless the cluster is at this version (the console's editor sends the one it loaded). */
  expected?: number;
  appliedBy: string;
  /** Refuse when a node is unreachable instead of leaving it to catch up. @default false */
  requireAll?: boolean;
}

/** What an apply did. */
export type ApplyResult =
  | {
      ok: true;
      version: ConfigVersion;
      /** Per node: committed (with the reload summary), or left to catch up. */
      nodes: { node: string; url: string; outcome: 'committed' | 'unreachable' | 'failed'; message?: string }[];
    }
  | ({ ok: false; refusals: ({ node: string } & PublishRefusal)[] } & PublishRefusal);

/** The reply of a prepare. */
type PrepareReply = { ok: true; node: string; warnings: Diagnostic[] } | ({ ok: false; node: string } & PublishRefusal);

/** The per-node view `GET /api/v1/cluster` shows. */
export interface ClusterNodeView {
  name: string;
  url: string;
  self: boolean;
  reachable: boolean;
  status?: DaemonStatus;
  error?: string;
}

const isVersion = (v: unknown): v is ConfigVersion =>
  !!v && typeof (v as ConfigVersion).version === 'number' && typeof (v as ConfigVersion).text === 'string';

/** This node in the cluster's shared config. */
export class PeerNode {
  readonly #d: PeerNodeDeps;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastDivergent = false;
  #syncing: Promise<void> | undefined;

  constructor(deps: PeerNodeDeps) {
    this.#d = deps;
  }

  get name(): string {
    return this.#d.settings.node;
  }

  get url(): string {
    return this.#d.settings.listen ? listenerUrl(this.#d.settings.listen) : '-';
  }

  /** Updates the peers after a reload (cluster.peers may have changed). */
  setSettings(s: ClusterSettings): void {
    this.#d.settings = { ...s, listen: this.#d.settings.listen ?? s.listen } as ClusterSettings;
  }

  /** The running text with its format, version and hash. */
  running(): { text: string; format: ConfigFormat; version: number; hash: string; file: string } {
    const text = this.#d.readRunning() ?? '';
    const hash = configHash(text);
    const cur = this.#d.store.current();
    return {
      text,
      format: detectFormat(this.#d.runningPath, text),
      version: cur && cur.hash === hash ? cur.version : 0,
      hash,
      file: this.#d.runningPath,
    };
  }

  head(): NodeHead {
    const r = this.running();
    const cur = this.#d.store.current();
    return {
      node: this.name,
      version: cur?.version ?? 0,
      ...(cur ? { versionHash: cur.hash } : {}),
      hash: r.hash,
      running: r.version,
      format: r.format,
    };
  }

  /** For DaemonStatus: configVersion, configHash and whether the last look at the peers saw another config. */
  statusFields(): { configVersion: number; configHash: string; configDivergent: boolean } {
    const r = this.running();
    return { configVersion: r.version, configHash: r.hash, configDivergent: this.#lastDivergent };
  }

  /** Checks a text as this node would run it (the checks of `tandem check` and this host's facts). */
  check(text: string, file: string, format?: ConfigFormat) {
    const fmt = format ?? detectFormat(this.#d.runningPath, text);
    return checkForNode({ text, file, format: fmt }, this.name, this.#d.fs, this.#d.facts(), this.#d.configId);
  }

  /** A text against the running config: the unified text diff, and per kind what a reload would change. */
  diff(text: string, file = 'new'): { unified: string; summary?: ConfigDiff; diagnostics: Diagnostic[] } {
    const run = this.running();
    const unified = unifiedDiff(run.text, text, run.file, file);
    const a = loadText({ text: run.text, file: run.file }, this.#d.fs, this.#d.configId ?? this.name);
    const b = loadText({ text, file, format: run.format }, this.#d.fs, this.#d.configId ?? this.name);
    return a.config && b.config
      ? { unified, summary: diffConfig(a.config, b.config), diagnostics: b.diagnostics }
      : { unified, diagnostics: b.diagnostics };
  }

  // ── the peer side ──────────────────────────────────────────────────────────────────────────────────────────────

  /** Phase one on this node: the text checked here and staged, or why not. */
  prepare(v: ConfigVersion & { file?: string }, expected: number): PrepareReply {
    const node = this.name;
    if (configHash(v.text) !== v.hash)
      return { ok: false, node, reason: 'unreachable', message: 'the text does not have the hash sent with it' };
    const cur = this.#d.store.current()?.version ?? 0;
    if (cur > expected || v.version <= cur) return { ok: false, node, reason: 'conflict', current: cur };
    const runFormat = detectFormat(this.#d.runningPath, v.text);
    const c = this.check(v.text, v.file ?? this.#d.runningPath, runFormat);
    if (!c.config) return { ok: false, node, reason: 'invalid', diagnostics: c.diagnostics };
    const { file: _file, ...version } = v;
    this.#d.store.stage({ ...version, format: runFormat });
    this.#d.log.log('info', `cluster config: version ${v.version} (${v.hash}) prepared`, {
      event: 'config-prepare',
      version: v.version,
    });
    return { ok: true, node, warnings: c.diagnostics };
  }

  /** Phase two on this node: the staged version stored, written to the running file, reloaded. */
  commit(version: number, hash: string): { ok: true; reload: unknown } | { ok: false; message: string } {
    const st = this.#d.store.staged();
    if (!st || st.version !== version || st.hash !== hash)
      return { ok: false, message: `version ${version} is not the one prepared here` };
    return this.#install(st, 'commit');
  }

  abort(version: number): void {
    if (this.#d.store.staged()?.version === version) {
      this.#d.store.unstage();
      this.#d.log.log('info', `cluster config: version ${version} aborted`, { event: 'config-abort', version });
    }
  }

  #install(v: ConfigVersion, how: string): { ok: true; reload: unknown } | { ok: false; message: string } {
    this.#d.store.put(v);
    this.#d.writeRunning(v.text);
    this.#d.store.unstage();
    const r = this.#d.reload();
    this.#d.log.log('info', `cluster config: version ${v.version} (${v.hash}) ${how} by ${v.appliedBy}`, {
      event: 'config-commit',
      version: v.version,
      hash: v.hash,
    });
    return r.ok ? { ok: true, reload: r.summary } : { ok: false, message: 'the reload refused the committed config' };
  }

  /** Answers a request from a peer (or a joining node) on the peer listener. */
  async handle(req: PeerRequest): Promise<PeerReply> {
    const route = `${req.method} ${req.path.replace(/\?.*$/, '')}`;
    if (route === 'GET /peer/v1/ca') return { status: 200, body: { ca: this.#d.caPem() } };
    if (route === 'POST /peer/v1/join') {
      if (!this.#d.join) return { status: 404, body: { message: 'this node does not sign joins' } };
      const r = await this.#d.join(req.body);
      this.#d.log.log(r.ok ? 'info' : 'warn', `cluster join from ${req.from}: ${r.ok ? 'signed' : r.message}`, {
        event: 'cluster-join',
      });
      return r.ok ? { status: 200, body: r } : { status: 403, body: { code: 'TND_CLUSTER_JOIN', message: r.message } };
    }
    // Everything else only for a node the cluster CA signed, named in cluster.nodes.
    const nodes = this.#d.settings.nodes;
    if (!req.peer || (nodes.length > 0 && !nodes.includes(req.peer)))
      return { status: 401, body: { code: 'TND_CLUSTER_TLS', message: 'a cluster node certificate is required' } };
    const b = (req.body ?? {}) as Record<string, unknown>;
    switch (route) {
      case 'GET /peer/v1/head':
        return { status: 200, body: this.head() };
      case 'GET /peer/v1/current': {
        const cur = this.#d.store.current();
        return { status: 200, body: { head: this.head(), version: cur ?? null } };
      }
      case 'GET /peer/v1/running':
        return { status: 200, body: { node: this.name, ...this.running() } };
      case 'GET /peer/v1/status':
        return { status: 200, body: { ...(await this.#d.status()), ...this.statusFields() } };
      case 'POST /peer/v1/prepare': {
        if (!isVersion(b.version) || typeof b.expected !== 'number')
          return { status: 400, body: { message: 'prepare needs version and expected' } };
        const r = this.prepare({ ...b.version, ...(typeof b.file === 'string' ? { file: b.file } : {}) }, b.expected);
        return { status: 200, body: r };
      }
      case 'POST /peer/v1/commit': {
        if (typeof b.version !== 'number' || typeof b.hash !== 'string')
          return { status: 400, body: { message: 'commit needs version and hash' } };
        return { status: 200, body: this.commit(b.version, b.hash) };
      }
      case 'POST /peer/v1/abort':
        if (typeof b.version === 'number') this.abort(b.version);
        return { status: 200, body: { ok: true } };
    }
    return { status: 404, body: { code: 'TND_CTL_NOT_FOUND', message: `no route ${route}` } };
  }

  // ── the coordinator ───────────────────────────────────────────────────────────────────────────────────────────

  async #heads(): Promise<{ url: string; head?: NodeHead; error?: string }[]> {
    return Promise.all(
      this.#d.settings.peers.map(async (url) => {
        const r = await this.#d.request(url, 'GET', '/peer/v1/head', undefined, 5_000);
        if (!r.ok) return { url, error: r.message };
        if (r.status !== 200) return { url, error: `${url} answered ${r.status}: ${JSON.stringify(r.body)}` };
        return { url, head: r.body as NodeHead };
      }),
    );
  }

  /** `tandem config apply`: two phases over every reachable node. */
  async apply(req: ApplyRequest): Promise<ApplyResult> {
    const heads = await this.#heads();
    const down = heads.filter((h) => !h.head);
    if (req.requireAll && down.length) {
      const d = down[0]!;
      const refusal = { reason: 'unreachable' as const, node: d.url, message: d.error ?? 'unreachable' };
      return { ok: false, ...refusal, refusals: [refusal] };
    }
    const cur = Math.max(this.#d.store.current()?.version ?? 0, ...heads.map((h) => h.head?.version ?? 0));
    if (req.expected !== undefined && req.expected !== cur) {
      const refusal = { reason: 'conflict' as const, current: cur };
      return { ok: false, ...refusal, refusals: [{ node: this.name, ...refusal }] };
    }
    const version: ConfigVersion = {
      version: cur + 1,
      hash: configHash(req.text),
      text: req.text,
      format: req.format ?? detectFormat(this.#d.runningPath, req.text),
      appliedAt: this.#d.now(),
      appliedBy: req.appliedBy,
    };
    const up = heads.filter((h) => h.head);
    // Phase one: every node checks the text against its own host and stages it.
    const prepared = await Promise.all([
      Promise.resolve({ url: this.url, self: true, r: this.prepare({ ...version, file: req.file }, cur) }),
      ...up.map(async (h) => {
        const r = await this.#d.request(h.url, 'POST', '/peer/v1/prepare', { version, expected: cur, file: req.file });
        const reply: PrepareReply =
          r.ok && r.status === 200
            ? (r.body as PrepareReply)
            : {
                ok: false,
                node: h.head!.node,
                reason: 'unreachable',
                message: r.ok ? `answered ${r.status}` : r.message,
              };
        return { url: h.url, self: false, r: reply };
      }),
    ]);
    const refusals = prepared.flatMap((p) => (p.r.ok ? [] : [p.r as { node: string } & PublishRefusal]));
    if (refusals.length) {
      await Promise.all(
        prepared.map((p) =>
          p.self
            ? this.abort(version.version)
            : this.#d.request(p.url, 'POST', '/peer/v1/abort', { version: version.version }),
        ),
      );
      const first = refusals.find((r) => r.reason === 'invalid') ?? refusals[0]!;
      this.#d.log.log(
        'warn',
        `cluster config: apply of version ${version.version} refused by ${first.node} (${first.reason})`,
        {
          event: 'config-refused',
        },
      );
      const { node: _n, ...why } = first;
      return { ok: false, ...why, node: first.node, refusals } as ApplyResult;
    }
    // Phase two: commit everywhere (each node reloads through its daemon's reload path).
    type Row = { node: string; url: string; outcome: 'committed' | 'unreachable' | 'failed'; message?: string };
    const nodes: Row[] = await Promise.all(
      prepared.map(async (p): Promise<Row> => {
        const name = p.r.node;
        if (p.self) {
          const c = this.commit(version.version, version.hash);
          return {
            node: name,
            url: p.url,
            outcome: c.ok ? ('committed' as const) : ('failed' as const),
            ...(c.ok ? {} : { message: c.message }),
          };
        }
        const r = await this.#d.request(p.url, 'POST', '/peer/v1/commit', {
          version: version.version,
          hash: version.hash,
        });
        const body = r.ok ? (r.body as { ok?: boolean; message?: string }) : undefined;
        if (r.ok && body?.ok) return { node: name, url: p.url, outcome: 'committed' as const };
        return {
          node: name,
          url: p.url,
          outcome: 'failed' as const,
          message: r.ok ? (body?.message ?? `answered ${r.status}`) : r.message,
        };
      }),
    );
    for (const d of down)
      nodes.push({
        node: d.url,
        url: d.url,
        outcome: 'unreachable',
        message: `${d.error}; it catches up when it returns`,
      });
    this.#lastDivergent = down.length > 0;
    return { ok: true, version, nodes };
  }

  /** `tandem config rollback VERSION`: that version's text applied again, as a new version. */
  async rollback(
    version: number,
    appliedBy: string,
  ): Promise<ApplyResult | { ok: false; reason: 'missing'; message: string }> {
    const v = this.#d.store.get(version);
    if (!v) return { ok: false, reason: 'missing', message: `version ${version} is not kept on ${this.name}` };
    return this.apply({
      text: v.text,
      file: this.#d.runningPath,
      format: v.format as ConfigFormat,
      appliedBy: `${appliedBy} (rollback to ${version})`,
    });
  }

  history(limit: number): ConfigVersion[] {
    return this.#d.store.history(limit);
  }

  /** Version and hash per node; divergence among the reachable ones. */
  async configStatus(): Promise<ConfigStatusReport> {
    const me = this.running();
    const heads = await this.#heads();
    const nodes: NodeConfigStatus[] = [
      { node: this.name, url: this.url, self: true, reachable: true, version: me.version, hash: me.hash },
      ...heads.map((h) =>
        h.head
          ? { node: h.head.node, url: h.url, self: false, reachable: true, version: h.head.running, hash: h.head.hash }
          : { node: '?', url: h.url, self: false, reachable: false, error: h.error ?? 'unreachable' },
      ),
    ];
    const hashes = new Set(nodes.filter((n) => n.reachable).map((n) => n.hash));
    const divergent = hashes.size > 1;
    this.#lastDivergent = divergent;
    return { nodes, divergent, unreachable: nodes.filter((n) => !n.reachable).length };
  }

  /** Every node with its status (the console's cluster view). */
  async cluster(): Promise<ClusterNodeView[]> {
    const self: ClusterNodeView = {
      name: this.name,
      url: this.url,
      self: true,
      reachable: true,
      status: { ...(await this.#d.status()), ...this.statusFields() },
    };
    const peers = await Promise.all(
      this.#d.settings.peers.map(async (url): Promise<ClusterNodeView> => {
        const r = await this.#d.request(url, 'GET', '/peer/v1/status', undefined, 5_000);
        if (!r.ok) return { name: '?', url, self: false, reachable: false, error: r.message };
        if (r.status !== 200)
          return { name: r.peer ?? '?', url, self: false, reachable: false, error: `answered ${r.status}` };
        const st = r.body as DaemonStatus;
        return { name: st.node ?? r.peer ?? '?', url, self: false, reachable: true, status: st };
      }),
    );
    return [self, ...peers];
  }

  /** This node's running config against each peer's (the live `tandem check --peer`). */
  async compareLive(): Promise<{ node: string; url: string; comparison?: PeerComparison; error?: string }[]> {
    const me = this.running();
    const id = this.#d.configId ?? this.name;
    const mine = loadText({ text: me.text, file: me.file }, this.#d.fs, id);
    return Promise.all(
      this.#d.settings.peers.map(async (url) => {
        const r = await this.#d.request(url, 'GET', '/peer/v1/running', undefined, 5_000);
        if (!r.ok || r.status !== 200) return { node: '?', url, error: r.ok ? `answered ${r.status}` : r.message };
        const b = r.body as { node: string; text: string; file: string; format: ConfigFormat };
        const file = `${b.node}:${b.file}`;
        const theirs = loadText({ text: b.text, file, format: b.format }, this.#d.fs, b.node);
        if (!mine.config || !theirs.config)
          return { node: b.node, url, error: 'a config does not load; run tandem check' };
        const comparison = compareConfigs(
          {
            name: `${this.name}:${me.file}`,
            config: mine.config,
            locator: locatorOf({ text: me.text, file: me.file }, this.#d.fs, mine.format, id),
            node: this.name,
          },
          {
            name: file,
            config: theirs.config,
            locator: locatorOf({ text: b.text, file }, this.#d.fs, b.format, b.node),
            node: b.node,
          },
        );
        return { node: b.node, url, comparison };
      }),
    );
  }

  // ── catching up ──────────────────────────────────────────────────────────────────────────────────────────────

  /** Asks every peer for its newest version; applies it here when it is newer than this node's and fits this host. */
  syncOnce(): Promise<void> {
    this.#syncing ??= this.#sync().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    const replies = await Promise.all(
      this.#d.settings.peers.map((url) => this.#d.request(url, 'GET', '/peer/v1/current', undefined, 5_000)),
    );
    let newest: ConfigVersion | undefined;
    const hashes = new Set([this.running().hash]);
    for (const r of replies) {
      if (!r.ok || r.status !== 200) continue;
      const b = r.body as { head?: NodeHead; version?: ConfigVersion | null };
      if (b.head?.hash) hashes.add(b.head.hash);
      if (
        isVersion(b.version) &&
        configHash(b.version.text) === b.version.hash &&
        (!newest || b.version.version > newest.version)
      )
        newest = b.version;
    }
    const mine = this.#d.store.current()?.version ?? 0;
    if (newest && newest.version > mine && !this.#d.store.staged()) {
      const c = this.check(newest.text, this.#d.runningPath, detectFormat(this.#d.runningPath, newest.text));
      if (c.config) {
        this.#install(newest, 'caught up');
        hashes.delete(this.running().hash);
        hashes.add(newest.hash);
      } else
        this.#d.log.log(
          'error',
          `cluster config: version ${newest.version} does not fit this node; keeping ${mine}: ${c.diagnostics
            .filter((d) => d.severity === 'error')
            .map((d) => `${d.code} ${d.path}: ${d.message}`)
            .join('; ')}`,
          {
            event: 'config-catch-up-refused',
          },
        );
    }
    this.#lastDivergent = hashes.size > 1;
  }

  /** Catches up now, then every `intervalMs`. */
  start(intervalMs = SYNC_INTERVAL_MS): void {
    void this.syncOnce().catch((e: unknown) =>
      this.#d.log.log('warn', `cluster config: catching up failed: ${String(e)}`),
    );
    this.#timer = setInterval(() => {
      void this.syncOnce().catch((e: unknown) =>
        this.#d.log.log('warn', `cluster config: catching up failed: ${String(e)}`),
      );
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
