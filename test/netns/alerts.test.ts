// Alerts end to end (issue 12 item 5): two tandem daemons run keepalived.conf files in keepalived's own syntax with
// notification_email, notification_email_from, smtp_server and smtp_alert (as the seeds' files have them); an SMTP
// server (npm smtp-server) runs in a third lab host; the master is stopped, the backup takes over, and the mails
// keepalived would have sent arrive, with keepalived's From, To, Subject and body.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { canBuildLabs, createLab, type Lab } from './lab.ts';
import { Output, startTandem, untilState, workDir } from './tandem-lab.ts';

const skip = canBuildLabs() ? false : 'needs root and ip netns';
const root = new URL('../../', import.meta.url).pathname;
const SMTP_PORT = 2525;
const MAIL_HOST = '198.18.0.60';

const conf = (routerId: string, state: 'MASTER' | 'BACKUP', priority: number) => `! Configuration File for keepalived
global_defs {
   notification_email {
     acassen@firewall.loc
     failover@firewall.loc
     sysadmin@firewall.loc
   }
   notification_email_from Alexandre.Cassen@firewall.loc
   smtp_server ${MAIL_HOST} ${SMTP_PORT}
   smtp_connect_timeout 30
   router_id ${routerId}
}

vrrp_instance VI_1 {
    state ${state}
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int 1
    smtp_alert
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        198.18.0.100/24
    }
}
`;

interface Mail {
  from: string;
  to: string[];
  helo: string;
  raw: string;
  headers: Record<string, string>;
  body: string;
}

/** The SMTP server in a lab host; `next(re)` waits for a mail whose Subject matches. */
async function startSink(
  lab: Lab,
  host: string,
): Promise<{ child: ChildProcess; mails: Mail[]; next(re: RegExp): Promise<Mail> }> {
  const child = lab.spawn(
    host,
    process.execPath,
    ['--import', 'tsx', join(root, 'test/netns/tools/smtp-sink.ts'), String(SMTP_PORT), '0.0.0.0'],
    { cwd: root },
  );
  const out = new Output(child);
  await out.waitFor(/^listening/, 20_000);
  const mails: Mail[] = [];
  const parse = (line: string): Mail => {
    const m = JSON.parse(line) as Omit<Mail, 'headers' | 'body'>;
    const [head = '', ...rest] = m.raw.split(/\r?\n\r?\n/);
    const headers: Record<string, string> = {};
    // Unfold continuation lines, then split "Name: value".
    for (const l of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    return { ...m, headers, body: rest.join('\n\n').replace(/\r\n/g, '\n') };
  };
  return {
    child,
    mails,
    async next(re) {
      const line = await out.waitFor(new RegExp(`"mail":true.*Subject: ${re.source.replace(/^\^/, '')}`), 30_000);
      const m = parse(line);
      mails.push(m);
      return m;
    },
  };
}

test("keepalived.conf with smtp_alert: a failover sends keepalived's mails to the SMTP server", {
  skip,
  timeout: 90_000,
}, async () => {
  const dir = workDir('t12s-alerts-');
  const lab = await createLab(
    ['lb1', 'lb2', 'mail'],
    { lb1: '198.18.0.11', lb2: '198.18.0.12', mail: MAIL_HOST },
    { prefix: 't12s' },
  );
  try {
    const sink = await startSink(lab, 'mail');
    const lb1 = await startTandem(lab, 'lb1', conf('lb1', 'MASTER', 150), { dir, ext: 'conf' });
    await untilState(lb1, 'MASTER');
    const first = await sink.next(/\[lb1\] VRRP Instance VI_1 - Entering MASTER state/);
    const lb2 = await startTandem(lab, 'lb2', conf('lb2', 'BACKUP', 100), { dir, ext: 'conf' });
    await untilState(lb2, 'BACKUP');
    await sink.next(/\[lb2\] VRRP Instance VI_1 - Entering BACKUP state/);

    // The failover: the master stops (priority 0), the backup takes over.
    lb1.child.kill('SIGTERM');
    const stopping = await sink.next(/\[lb1\] VRRP Instance VI_1 - Stopping/);
    const master = await sink.next(/\[lb2\] VRRP Instance VI_1 - Entering MASTER state/);
    await untilState(lb2, 'MASTER');

    for (const m of [first, master, stopping]) {
      // Envelope and headers as keepalived's smtp.c sends them: MAIL FROM the notification_email_from, RCPT TO each
      // notification_email, one To header listing them all.
      assert.equal(m.from, 'Alexandre.Cassen@firewall.loc');
      assert.deepEqual(m.to, ['acassen@firewall.loc', 'failover@firewall.loc', 'sysadmin@firewall.loc']);
      assert.equal(m.headers.from, 'Alexandre.Cassen@firewall.loc');
      assert.equal(m.headers.to, 'acassen@firewall.loc, failover@firewall.loc, sysadmin@firewall.loc');
      assert.ok(m.headers.date, 'a Date header');
    }
    assert.equal(master.headers.subject, '[lb2] VRRP Instance VI_1 - Entering MASTER state');
    assert.equal(master.body.trim(), '=> VRRP Instance is now owning VRRP VIPs <=');
    assert.equal(stopping.body.trim(), '=> VRRP Instance stopping <=');
    assert.equal(master.helo, 'lb2', 'HELO/EHLO name: smtp_helo_name, else the router id (keepalived: the host name)');
    // The delivery counters are in the status (GET /v1/status .alerts).
    const st = (await lb2.status()) as unknown as {
      alerts?: { sinks: Record<string, { sent: number; failed: number }> };
    };
    assert.ok((st.alerts?.sinks.email?.sent ?? 0) >= 2, JSON.stringify(st.alerts));
    assert.equal(st.alerts?.sinks.email?.failed, 0);
    // The mail as received, for the report (T12S_MAIL_OUT=FILE).
    if (process.env.T12S_MAIL_OUT) writeFileSync(process.env.T12S_MAIL_OUT, master.raw);
  } finally {
    await lab.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
