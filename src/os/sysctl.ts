/** Reading kernel settings (sysctl) from /proc/sys. Read only: tandem does not change them behind the operator. */
import { readFileSync } from 'node:fs';

/** The value of a sysctl (`net.ipv4.ip_forward`), trimmed; undefined when the kernel has no such setting. */
export function readSysctl(name: string, root = '/proc/sys'): string | undefined {
  try {
    return readFileSync(`${root}/${name.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The forwarding settings NAT to real servers on other hosts needs, that are off (`0`) on this host. */
export function forwardingOff(root?: string): string[] {
  return ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'].filter((n) => readSysctl(n, root) === '0');
}
