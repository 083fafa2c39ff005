/**
 * The guided form of the console (Piranha's flow: global settings, the primary and backup router, a virtual server
 * and its real servers) written out as the same tandem YAML the editor holds and `tandem check` reads. Pure: the
 * form in, the text out; every value is quoted or checked so a field cannot inject YAML structure.
 */

/** A real server row of the form. */
export interface GuidedRealServer {
  address: string;
  port: string;
  weight: string;
}

/** The whole form, as the browser holds it (strings, as typed). */
export interface GuidedForm {
  clusterName: string;
  interface: string;
  vrid: string;
  vip: string;
  prefix: string;
  advertInterval: string;
  primary: { name: string; address: string; priority: string };
  backup: { name: string; address: string; priority: string };
  service: { name: string; port: string; protocol: string; scheduler: string; dataplane: string; check: string };
  realServers: GuidedRealServer[];
}

/** A form filled with a working example (the values of the lab in docs/console.md). */
export function defaultForm(): GuidedForm {
  return {
    clusterName: 'web',
    interface: 'eth0',
    vrid: '51',
    vip: '198.18.0.100',
    prefix: '24',
    advertInterval: '1s',
    primary: { name: 'd1', address: '198.18.0.11', priority: '150' },
    backup: { name: 'd2', address: '198.18.0.12', priority: '100' },
    service: { name: 'web', port: '80', protocol: 'tcp', scheduler: 'wrr', dataplane: 'nft', check: 'tcp' },
    realServers: [
      { address: '198.18.0.21', port: '', weight: '1' },
      { address: '198.18.0.22', port: '', weight: '1' },
    ],
  };
}

/** A YAML scalar for text typed in a field: plain when it is safe, else double-quoted with escapes. */
export function scalar(text: string): string {
  const t = text.trim();
  if (/^[A-Za-z0-9_./:-]+$/.test(t) && !/^[-:]/.test(t) && !/^(true|false|null|yes|no|on|off|~)$/i.test(t)) return t;
  return JSON.stringify(t);
}

/** A number typed in a field, or the field's text quoted (so `tandem check` reports it, on its line). */
function num(text: string): string {
  const t = text.trim();
  return /^\d{1,6}$/.test(t) ? String(Number(t)) : JSON.stringify(t);
}

/** The YAML the form stands for. */
export function guidedYaml(f: GuidedForm): string {
  const p = f.primary;
  const b = f.backup;
  const s = f.service;
  const lines = [
    '# Written by the console guided form: global settings, the two routers, one virtual server.',
    'cluster:',
    `  name: ${scalar(f.clusterName)}`,
    '  nodes:',
    `    - { name: ${scalar(p.name)}, address: ${scalar(p.address)} }`,
    `    - { name: ${scalar(b.name)}, address: ${scalar(b.address)} }`,
    'vrrp:',
    '  instances:',
    '    - name: VI_1',
    `      interface: ${scalar(f.interface)}`,
    `      vrid: ${num(f.vrid)}`,
    '      version: 3',
    `      priority: { ${scalar(p.name)}: ${num(p.priority)}, ${scalar(b.name)}: ${num(b.priority)} }`,
    `      advert_interval: ${scalar(f.advertInterval)}`,
    '      vips:',
    `        - ${scalar(`${f.vip.trim()}/${f.prefix.trim()}`)}`,
    'lb:',
    '  services:',
    `    - name: ${scalar(s.name)}`,
    `      vip: ${scalar(f.vip)}`,
    `      port: ${num(s.port)}`,
    `      protocol: ${scalar(s.protocol)}`,
    `      scheduler: ${scalar(s.scheduler)}`,
    `      dataplane: ${scalar(s.dataplane)}`,
    `      check: { type: ${scalar(s.check)} }`,
    '      real_servers:',
  ];
  const rs = f.realServers.filter((r) => r.address.trim() !== '');
  if (rs.length === 0) lines[lines.length - 1] = '      real_servers: []';
  for (const r of rs) {
    const parts = [`address: ${scalar(r.address)}`];
    if (r.port.trim() !== '') parts.push(`port: ${num(r.port)}`);
    if (r.weight.trim() !== '') parts.push(`weight: ${num(r.weight)}`);
    lines.push(`        - { ${parts.join(', ')} }`);
  }
  return `${lines.join('\n')}\n`;
}
