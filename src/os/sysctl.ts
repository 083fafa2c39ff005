/**
 * Kernel settings (sysctl) in /proc/sys. tandem reads them (forwarding checks) and changes them only when a command
 * asks for it (`tandem realserver up` sets the ARP sysctls a direct-routing real server needs, and `down` puts the
 * earlier values back).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { TandemError } from '../core/errors.ts';

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

/** Reads and writes sysctls; `write` converges (true when the value changed). */
export interface SysctlAdapter {
  read(name: string): string | undefined;
  /** Sets `name` to `value` unless it holds it already; throws `TND_OS_SYSCTL` when the kernel refuses. */
  write(name: string, value: string): boolean;
}

const NAME = /^[a-z0-9_]+(\.[A-Za-z0-9_@:+-]+)+$/;

/**
 * The /proc/sys adapter (`root` for tests).
 * @example procSysctl().write('net.ipv4.conf.all.arp_ignore', '1')
 */
export function procSysctl(root = '/proc/sys'): SysctlAdapter {
  return {
    read: (name) => readSysctl(name, root),
    write(name, value) {
      if (!NAME.test(name) || name.includes('..')) throw new TandemError('TND_OS_SYSCTL', `${name}: not a sysctl name`);
      if (readSysctl(name, root) === value) return false;
      try {
        writeFileSync(`${root}/${name.replaceAll('.', '/')}`, `${value}\n`);
      } catch (e) {
        throw new TandemError('TND_OS_SYSCTL', `cannot set ${name} = ${value}: ${(e as Error).message}`);
      }
      return true;
    },
  };
}
