// Make-before-break planned handover on a real wire (docs/handover.md): two directors in network namespaces, an HTTP
// responder on each, a client that opens a fresh TCP connection to the VIP every 10 ms (test/netns/tools/probe.ts,
// 200 ms timeout each). At 100 ms adverts, `tandem standby`, `tandem takeover`, SIGTERM of the master and the
// higher-priority master coming back each fail 0 of the client's requests, and a keepalived backup still takes over
// from a tandem master that leaves. Every test builds its own lab (prefix t15h) and tears it down.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import {
  KEEPALIVED,
  type ProbeResult,
  startKeepalived,
  startProbe,
  startResponder,
  startTandem,
  TANDEM,
  type TandemProc,
  untilState,
  VipWatch,
  workDir,
} from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';
const VIP = '198.18.0.100';
const ADDRS = { d1: '198.18.0.11', d2: '198.18.0.12', client: '198.18.0.50' };

const yaml = (advert: string) => `
cluster:
  nodes: [{ name: d1, address: 198.18.0.11 }, { name: d2, address: 198.18.0.12 }]
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      version: 3
      priority: { d1: 150, d2: 100 }
      advert_interval: ${advert}
      vips: [${VIP}/24]
`;

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [TANDEM, ...args], { encoding: 'utf8', timeout: 10_000 });

async function lab2(body: (ctx: { lab: Lab; dir: string }) => Promise<void>): Promise<void> {
  const dir = workDir('t15h-');
  const lab = await createLab(['d1', 'd2', 'client'], ADDRS, { prefix: 't15h' });
  try {
    await startResponder(lab, 'd1');
    await startResponder(lab, 'd2');
    await body({ lab, dir });
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Probes the VIP for `ms`; once 100 requests were answered, `act` runs; resolves with the client's summary. */
async function during(lab: Lab, ms: number, act: () => Promise<unknown> | unknown) {
  const watch = new VipWatch(lab, ['d1', 'd2'], VIP);
  await watch.start();
  const client = startProbe(lab, 'client', VIP, 10, ms);
  await client.answered(100);
  await act();
  const r = await client.done;
  watch.stop();
  return { r, watch };
}

const explain = (r: ProbeResult, w: VipWatch, initial: string[]) =>
  `${JSON.stringify(r)} ${JSON.stringify(w.report(initial))}`;

async function pair(lab: Lab, dir: string, advert = '100ms'): Promise<{ d1: TandemProc; d2: TandemProc }> {
  const d1 = await startTandem(lab, 'd1', yaml(advert), { dir });
  const d2 = await startTandem(lab, 'd2', yaml(advert), { dir });
  await untilState(d1, 'MASTER');
  await untilState(d2, 'BACKUP');
  return { d1, d2 };
}

test('tandem standby at 100 ms adverts: 0 failed requests, and no moment without a VIP holder', { skip }, async () => {
  await lab2(async ({ lab, dir }) => {
    const { d1, d2 } = await pair(lab, dir);
    const { r, watch } = await during(lab, 3_000, () => {
      const s = cli('standby', '--all', '--control', d1.control);
      assert.equal(s.status, 0, s.stderr);
    });
    const w = watch.report(['d1']);
    assert.equal(r.failed, 0, explain(r, watch, ['d1']));
    assert.equal(w.gapMs, 0, 'a host held the VIP at every instant');
    assert.ok((r.who.d2 ?? 0) > 0, 'd2 served after the handover');
    await untilState(d1, 'BACKUP');
    assert.equal((await d2.status()).instances[0]?.state, 'MASTER');
    await d1.out.waitFor(/handover: new master 198\.18\.0\.12 heard/);
  });
});

test('tandem takeover at 100 ms adverts: 0 failed requests', { skip }, async () => {
  await lab2(async ({ lab, dir }) => {
    const { d1, d2 } = await pair(lab, dir);
    const { r, watch } = await during(lab, 3_000, () => {
      const s = cli('takeover', '--all', '--control', d2.control);
      assert.equal(s.status, 0, s.stderr);
    });
    assert.equal(r.failed, 0, explain(r, watch, ['d1']));
    assert.equal(watch.report(['d1']).gapMs, 0);
    await untilState(d1, 'BACKUP');
  });
});

test('SIGTERM of the master at 100 ms adverts: it keeps the VIP until d2 has it; 0 failed requests', {
  skip,
}, async () => {
  await lab2(async ({ lab, dir }) => {
    const { d1, d2 } = await pair(lab, dir);
    const { r, watch } = await during(lab, 3_000, () => d1.child.kill('SIGTERM'));
    assert.equal(r.failed, 0, explain(r, watch, ['d1']));
    assert.equal(watch.report(['d1']).gapMs, 0);
    assert.equal((await d2.status()).instances[0]?.state, 'MASTER');
    await d1.out.waitFor(/stopped: handed over and removed VIPs/);
    await d1.out.waitFor(/^.*Stopped$/m);
  });
});

test('preemption back at 100 ms adverts: d1 returns and takes over from d2 with 0 failed requests', {
  skip,
}, async () => {
  await lab2(async ({ lab, dir }) => {
    const { d1, d2 } = await pair(lab, dir);
    d1.child.kill('SIGTERM');
    await untilState(d2, 'MASTER');
    await d1.out.waitFor(/Stopped/);
    let back: TandemProc | undefined;
    // The client runs on for a while after d1 is master again (starting a daemon takes a moment on a busy machine).
    const { r, watch } = await during(lab, 8_000, async () => {
      back = await startTandem(lab, 'd1', yaml('100ms'), { dir });
      await untilState(back, 'MASTER');
      await untilState(d2, 'BACKUP');
    });
    assert.equal(r.failed, 0, explain(r, watch, ['d2']));
    assert.equal(watch.report(['d2']).gapMs, 0);
    await back!.out.waitFor(/Entering MASTER STATE \(master-down/);
    await d2.out.waitFor(/handover: new master 198\.18\.0\.11 heard/);
    assert.ok((r.who.d1 ?? 0) > 0 && (r.who.d2 ?? 0) > 0, JSON.stringify(r.who));
  });
});

test('a keepalived backup takes over from a tandem master in standby and on SIGTERM, 0 failed requests', {
  skip: skip || (existsSync(KEEPALIVED) ? false : 'keepalived is not installed'),
}, async () => {
  const conf = (priority: number, id: string) => `global_defs {
    router_id ${id}
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int 0.1
    version 3
    virtual_ipaddress {
        ${VIP}/24
    }
}
`;
  await lab2(async ({ lab, dir }) => {
    const d1 = await startTandem(lab, 'd1', conf(150, 'd1'), { dir, ext: 'conf' });
    await untilState(d1, 'MASTER');
    const k = await startKeepalived(lab, 'd2', conf(100, 'd2'), dir);
    const standby = await during(lab, 3_000, () => cli('standby', '--all', '--control', d1.control));
    assert.equal(standby.r.failed, 0, explain(standby.r, standby.watch, ['d1']));
    await k.out.waitFor(/\(VI_1\) Entering MASTER STATE/);
    await untilState(d1, 'BACKUP');
    cli('standby', '--all', '--clear', '--control', d1.control);
    await untilState(d1, 'MASTER');
    const term = await during(lab, 3_000, () => d1.child.kill('SIGTERM'));
    assert.equal(term.r.failed, 0, explain(term.r, term.watch, ['d1']));
    assert.ok((term.r.who.d2 ?? 0) > 0);
  });
});
