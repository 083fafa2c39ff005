// The web console in a real browser (Debian's chromium driven by playwright-core) against two real daemons in a
// namespace lab with real servers behind the VIP: a client, directors d1 and d2 (`tandem run`, kernel NAT), real
// servers rs1 and rs2 (HTTP responders naming themselves). The browser runs in the root namespace and reaches the
// API through a loopback address (see apiFor below). Every action is taken by clicking in the console; every effect
// is asserted where it happens (the client's answers, the hosts' addresses), not on the page. Screenshots of each
// screen go to test-artifacts/console/ (printed at the end).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { LbServiceStatus } from '../../src/api/contract.ts';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import {
  addrsOf,
  eventually,
  Output,
  probe,
  startResponder,
  startTandem,
  TANDEM,
  type TandemProc,
  untilState,
  workDir,
} from './tandem-lab.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = !canBuildLabs() ? 'needs root and ip netns' : false;
const VIP = '198.18.0.100';
const RS = { rs1: '198.18.0.21', rs2: '198.18.0.22' } as const;
const ROOT = new URL('../../', import.meta.url).pathname;
const SHOTS = join(ROOT, 'test-artifacts/console');

const API_PORT = 8080;
const PEER_PORT = 7696;
const config = (dir: string) => `
api:
  listen: 127.0.0.1:${API_PORT}
  users_file: ${dir}/users.json
  audit_log: ${dir}/audit.log
  login: { max_failures: 3 }
cluster:
  name: t13w
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
  listen: { d1: "198.18.0.11:${PEER_PORT}", d2: "198.18.0.12:${PEER_PORT}" }
  peers: [ "https://198.18.0.11:${PEER_PORT}", "https://198.18.0.12:${PEER_PORT}" ]
  state_dir: { d1: ${dir}/d1, d2: ${dir}/d2 }
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 63
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: 100ms
      vips: [${VIP}/24]
lb:
  services:
    - name: web
      vip: ${VIP}
      port: 80
      scheduler: rr
      dataplane: nft
      snat: true
      drain_timeout: 20s
      check: { type: tcp, interval: 300ms, rise: 2, fall: 2, connect_timeout: 200ms, warmup: 0 }
      real_servers:
        - { address: ${RS.rs1} }
        - { address: ${RS.rs2} }
`;

const USERS = [
  { name: 'ops', password: 'ops-pass-t13w', role: 'admin' as const },
  { name: 'eve', password: 'eve-pass-t13w', role: 'viewer' as const },
  { name: 'mallory', password: 'mallory-pass-t13w', role: 'operator' as const },
];

const web = (p: TandemProc): Promise<LbServiceStatus | undefined> =>
  p.status().then((s) => s.lb?.services.find((x) => x.name === 'web'));

/**
 * The browser runs in the root namespace; the API listens on the loopback of d1's namespace (plain HTTP is allowed
 * only on loopback). A helper inside the namespace listens on a Unix socket file and connects to it; here a listener
 * on 127.0.0.1 (root namespace, port chosen by the kernel) pipes each connection to that socket file. Nothing is
 * added to the root namespace's interfaces, addresses or routes.
 */
async function apiFor(lab: Lab, host: string, dir: string): Promise<{ url: string; server: Server }> {
  const sock = join(dir, `t13w-${host}-api.sock`);
  const fwd = lab.spawn(
    host,
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test/netns/tools/unix-forward.ts'), sock, '127.0.0.1', String(API_PORT)],
    { cwd: ROOT },
  );
  await new Output(fwd).waitFor(/listening/, 15_000);
  const server = createServer((c) => {
    const u = connect(sock);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.pipe(u).pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Fails the test on any CSP violation or script error in the page. */
function watchPage(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
}

async function login(ctx: BrowserContext, url: string, user: string, password: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(url);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  return page;
}

async function confirm(page: Page): Promise<void> {
  await page.click('[role=dialog] button[data-confirm]');
  await page.waitForSelector('[role=dialog]', { state: 'detached', timeout: 30_000 });
}

test('the console in chromium drives a two-node lab', { skip, timeout: 180_000 }, async (t) => {
  mkdirSync(SHOTS, { recursive: true });
  const dir = workDir('t13w-console-');
  const lab: Lab = await createLab(
    ['d1', 'd2', 'client', 'rs1', 'rs2'],
    { d1: '198.18.0.11', d2: '198.18.0.12', client: '198.18.0.50', ...RS },
    { prefix: 't13w' },
  );
  let browser: Browser | undefined;
  let forward: Server | undefined;
  const problems: string[] = [];
  try {
    for (const d of ['d1', 'd2']) await lab.run(d, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    for (const h of Object.keys(RS)) await startResponder(lab, h);
    // The API's users, made as an operator makes them: `tandem user add NAME --role R --password-stdin`.
    for (const u of USERS) {
      const r = spawnSync(
        process.execPath,
        [TANDEM, 'user', 'add', u.name, '--role', u.role, '--password-stdin', '--users-file', join(dir, 'users.json')],
        { input: `${u.password}\n`, encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    }
    // The cluster's identity: its CA on d1, d2 joins over TLS pinned by the token (as docs/cluster.md does it).
    const init = spawnSync(
      process.execPath,
      [TANDEM, 'cluster', 'init', '--name', 'd1', '--cluster', 't13w', '--state-dir', join(dir, 'd1')],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const token = /^(tj1\.[0-9a-f]+\.[0-9a-f]+)$/m.exec(init.stdout)?.[1];
    assert.ok(token, `${init.stdout}${init.stderr}`);
    const d1 = await startTandem(lab, 'd1', config(dir), { dir, supervisor: false });
    await d1.out.waitFor(/peer listener on/);
    const joined = await lab.exec('d2', process.execPath, [
      TANDEM,
      'cluster',
      'join',
      `https://198.18.0.11:${PEER_PORT}`,
      '--token',
      token,
      '--name',
      'd2',
      '--state-dir',
      join(dir, 'd2'),
    ]);
    assert.equal(joined.code, 0, joined.stderr);
    const d2 = await startTandem(lab, 'd2', config(dir), { dir, supervisor: false });
    await d2.out.waitFor(/peer listener on/);
    await untilState(d1, 'MASTER');
    await untilState(d2, 'BACKUP');
    await eventually(
      'd1 serves web with both real servers up',
      () => web(d1),
      (s) => s?.role === 'serving' && s.servers.every((r) => r.health === 'up' && r.programmed),
      20_000,
    );
    const fwd = await apiFor(lab, 'd1', dir);
    forward = fwd.server;
    const url = fwd.url;
    await eventually(
      'the API answers through the forwarded loopback',
      () => fetch(`${url}/api/v1/whoami`).then((r) => r.status),
      (st) => st === 401,
      20_000,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });

    await t.test('a wrong password is refused with a message', async () => {
      const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await login(ctx, url, 'mallory', 'wrong');
      watchPage(page, problems);
      await page.waitForSelector('[data-login-error]');
      assert.match((await page.textContent('[data-login-error]')) ?? '', /wrong user name or password/i);
      await shot(page, 'login-error');
      await ctx.close();
    });

    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await login(ctx, url, 'ops', 'ops-pass-t13w');
    watchPage(page, problems);

    await t.test('after login the dashboard shows both nodes, d1 master of VI_1 with the VIP', async () => {
      await page.waitForSelector('[data-node="d1"] [data-instance="VI_1"]');
      await page.waitForSelector('[data-node="d2"] [data-instance="VI_1"]');
      await page.waitForSelector('[data-masters] [data-instance="VI_1"] [data-master="d1"]');
      assert.match((await page.textContent('[data-node="d1"] [data-instance="VI_1"]')) ?? '', /MASTER/);
      assert.match((await page.textContent('[data-node="d2"] [data-instance="VI_1"]')) ?? '', /BACKUP/);
      assert.match((await page.textContent('[data-node="d1"]')) ?? '', new RegExp(VIP.replaceAll('.', '\\.')));
      await shot(page, 'dashboard');
    });

    await t.test(
      'draining rs1 from the console moves the client traffic to rs2; enabling it brings it back',
      async () => {
        const before = await probe(lab, 'client', VIP, 10, 600);
        assert.ok((before.who.rs1 ?? 0) > 0 && (before.who.rs2 ?? 0) > 0, JSON.stringify(before));
        await page.click('nav a[href="#/service/web"]');
        const row = `[data-server="${RS.rs1}:80"]`;
        await page.waitForSelector(row);
        await page.click(`${row} button[data-action=drain]`);
        await confirm(page);
        await page.waitForFunction(
          (sel) => /drain/.test(document.querySelector(`${sel} [data-admin]`)?.textContent ?? ''),
          row,
        );
        const after = await probe(lab, 'client', VIP, 10, 600);
        assert.equal(after.failed, 0, JSON.stringify(after));
        assert.equal(after.who.rs1 ?? 0, 0, `no new request reaches a drained server: ${JSON.stringify(after)}`);
        assert.ok((after.who.rs2 ?? 0) > 0, JSON.stringify(after));
        await page.waitForSelector('[data-plot=active] canvas');
        await shot(page, 'service-web');
        await page.click(`${row} button[data-action=enable]`);
        await confirm(page);
        await eventually(
          'rs1 takes requests again',
          () => probe(lab, 'client', VIP, 10, 300),
          (r) => (r.who.rs1 ?? 0) > 0,
          20_000,
        );
      },
    );

    await t.test(
      'a viewer sees no action buttons, and its forged POST with its own cookie and token is refused 403',
      async () => {
        const vctx = await browser!.newContext({ viewport: { width: 1400, height: 900 } });
        const v = await login(vctx, url, 'eve', 'eve-pass-t13w');
        watchPage(v, problems);
        await v.waitForSelector('[data-node="d1"] [data-instance="VI_1"]');
        assert.equal(await v.locator('button[data-action]').count(), 0, 'no action on the dashboard');
        await v.click('nav a[href="#/service/web"]');
        await v.waitForSelector(`[data-server="${RS.rs1}:80"]`);
        assert.equal(await v.locator('button[data-action]').count(), 0, 'no action on the service');
        await shot(v, 'viewer-service');
        const forged = await v.evaluate(async (server) => {
          const r = await fetch('/api/v1/rs', {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-csrf-token': sessionStorage.getItem('tandem.csrf') ?? '',
            },
            body: JSON.stringify({ service: 'web', verb: 'maint', server }),
          });
          return r.status;
        }, `${RS.rs1}:80`);
        assert.equal(forged, 403);
        const rs1 = (await web(d1))?.servers.find((r) => r.addr === RS.rs1);
        assert.equal(rs1?.admin.maint, undefined, 'the refused order changed nothing');
        await vctx.close();
      },
    );

    await t.test('standby on d1 from the console moves the VIP to d2', async () => {
      await page.click('nav a[href="#/"]');
      await page.click('[data-node="d1"] button[data-action=standby]');
      await confirm(page);
      await eventually(
        'd2 holds the VIP and d1 does not',
        async () => [await addrsOf(lab, 'd1'), await addrsOf(lab, 'd2')],
        ([a, b]) => !a!.includes(VIP) && b!.includes(VIP),
        20_000,
      );
      // d1's own card says it is backup now and hears d2 as master; the cluster table says d2 is master.
      await page.waitForFunction(
        () => {
          const t = document.querySelector('[data-node="d1"] [data-instance="VI_1"]')?.textContent ?? '';
          return /BACKUP/.test(t) && /198\.18\.0\.12/.test(t);
        },
        null,
        { timeout: 20_000 },
      );
      await page.waitForSelector('[data-masters] [data-instance="VI_1"] [data-master="d2"]');
      await shot(page, 'dashboard-after-standby');
      await page.click('nav a[href="#/timeline"]');
      await page.waitForFunction(
        () => /d1[\s\S]*198\.18\.0\.12/.test(document.querySelector('.spans')?.textContent ?? ''),
        null,
        { timeout: 20_000 },
      );
      await shot(page, 'failover-timeline');
      await page.click('nav a[href="#/events"]');
      await page.waitForSelector('[data-events] li');
      await shot(page, 'events');
    });

    await t.test(
      'the config editor: a mistake is marked on its line and cannot be applied; a mistake only d2 sees is refused by d2; the fix applies on both nodes',
      async () => {
        await page.click('nav a[href="#/config"]');
        await page.waitForSelector('[data-config-version]');
        await page.waitForSelector('[data-node-versions] [data-node-version="d2"][data-version="0"]');
        const original = await page.inputValue('textarea[name=config]');
        assert.match(original, /vrid: 63/);
        // 1. A value out of range: the diagnostic lands on the vrid line as you type, and Apply is disabled.
        const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
        const broken = original.replace('vrid: 63', 'vrid: 300');
        const vridLine = lineOf(broken, 'vrid: 300');
        await page.fill('textarea[name=config]', broken);
        await page.waitForSelector(`.gutter [data-line="${vridLine}"].err`, { timeout: 15_000 });
        assert.match((await page.textContent(`[data-diag-line="${vridLine}"]`)) ?? '', /vrid/);
        assert.equal(
          await page.locator('button[data-action=apply]').isDisabled(),
          true,
          'Apply refused while the text has errors',
        );
        await shot(page, 'config-editor-diagnostic');
        // 2. A mistake this node cannot see: d2's own address is not on d2's host. d2 refuses in the prepare phase.
        const foreign = original.replace('{ name: d2, address: 198.18.0.12 }', '{ name: d2, address: 198.18.0.99 }');
        await page.fill('textarea[name=config]', foreign);
        await page.waitForSelector('[data-check=clean]', { timeout: 15_000 });
        await page.click('button[data-action=apply]');
        await page.click('[role=dialog] button[data-confirm]');
        await page.waitForSelector('[data-apply-result=refused]', { timeout: 60_000 });
        assert.match((await page.textContent('[data-apply-result]')) ?? '', /d2/);
        await shot(page, 'config-apply-refused');
        for (const p of [d1, d2]) assert.equal((await p.status()).configVersion, 0, `${p.host} still runs version 0`);
        // 3. The fix (and a real change): the diff shows it, Apply runs it on both nodes.
        const fixed = original.replace('scheduler: rr', 'scheduler: wrr');
        await page.fill('textarea[name=config]', fixed);
        await page.waitForSelector('[data-check=clean]', { timeout: 15_000 });
        await page.click('button[data-action=diff]');
        await page.waitForSelector('[data-diff] .add');
        assert.match((await page.textContent('[data-diff]')) ?? '', /\+\s*scheduler: wrr/);
        await shot(page, 'config-diff');
        await page.click('button[data-action=apply]');
        await page.click('[role=dialog] button[data-confirm]');
        await page.waitForSelector('[data-apply-result=ok]', { timeout: 60_000 });
        for (const p of [d1, d2])
          await eventually(
            `${p.host} runs version 1`,
            () => p.status(),
            (st) => st.configVersion === 1,
            30_000,
          );
        await page.waitForSelector('[data-node-versions] [data-node-version="d2"][data-version="1"]', {
          timeout: 20_000,
        });
        await page.waitForSelector('[data-node-versions] [data-node-version="d1"][data-version="1"]');
        await shot(page, 'config-applied');
        assert.equal((await web(d1))?.scheduler, 'wrr');
      },
    );

    await t.test('the guided form writes the config into the editor, where it is checked', async () => {
      await page.click('nav a[href="#/guided"]');
      await page.fill('input[name=vrid]', '64');
      assert.match((await page.textContent('[data-guided-yaml]')) ?? '', /vrid: 64/);
      await shot(page, 'guided-form');
      await page.click('.guided button.primary');
      await page.waitForFunction(() =>
        /vrid: 64/.test((document.querySelector('textarea[name=config]') as HTMLTextAreaElement | null)?.value ?? ''),
      );
      await page.waitForSelector('[data-check=clean], [data-check=errors]', { timeout: 15_000 });
    });

    // Last: the lockout also locks the address the browser comes from (one good account must not shield a spray).
    await t.test(
      'repeated failures lock the account out: even the right password is refused, with the lockout message',
      async () => {
        const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
        const page = await login(ctx, url, 'mallory', 'wrong-again');
        watchPage(page, problems);
        await page.waitForSelector('[data-login-error]');
        for (let i = 0; i < 1; i++) {
          await page.fill('input[name=password]', `wrong-${i}`);
          const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/login'));
          await page.click('button[type=submit]');
          assert.equal((await answered).status(), 401);
        }
        // The right password now: refused, because the account is locked.
        await page.fill('input[name=password]', 'mallory-pass-t13w');
        await page.click('button[type=submit]');
        await page.waitForFunction(
          () => /locked/i.test(document.querySelector('[data-login-error]')?.textContent ?? ''),
          null,
          { timeout: 10_000 },
        );
        await shot(page, 'login-lockout');
        await ctx.close();
      },
    );

    assert.deepEqual(problems, [], 'no CSP violation or script error in any page');
  } finally {
    await browser?.close();
    forward?.close();
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
    console.log(`console screenshots: ${SHOTS}`);
  }
});
