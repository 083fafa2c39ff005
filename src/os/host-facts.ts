/** The facts of this host a config is checked against before it is applied (cluster/host-check.ts). */
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/** This host's interfaces, addresses, and a test for executables; read fresh at each call. */
export function readHostFacts(): {
  interfaces: Set<string>;
  addresses: Set<string>;
  executable(path: string): boolean;
  path: string[];
} {
  let names: string[] = [];
  try {
    // The namespace's own view: `ip netns exec` mounts a sysfs of the namespace.
    names = readdirSync('/sys/class/net');
  } catch {
    names = Object.keys(networkInterfaces());
  }
  const addresses = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) addresses.add(a.address.replace(/%.*$/, ''));
  return {
    interfaces: new Set([...names, ...Object.keys(networkInterfaces())]),
    addresses,
    executable(path) {
      try {
        if (!statSync(path).isFile()) return false;
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    path: (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').filter(Boolean),
  };
}
