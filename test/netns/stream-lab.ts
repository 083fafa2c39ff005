/** Long downloads in a lab (tools/stream.ts): a server per real server and a client that reports how it went. */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Lab } from './lab.ts';
import { Output } from './tandem-lab.ts';

const root = new URL('../../', import.meta.url).pathname;
const TOOL = join(root, 'test/netns/tools/stream.ts');

/** How one download ended. */
export interface StreamResult {
  who: string | null;
  bytes: number;
  corrupt: number;
  error: string | null;
  maxGapMs: number;
}

/** Starts a streaming server in `host`: each connection gets `bytes` at about `rate` bytes/s. */
export async function startStreamServer(
  lab: Lab,
  host: string,
  port: number,
  bytes: number,
  rate: number,
): Promise<Output> {
  const child: ChildProcess = lab.spawn(
    host,
    process.execPath,
    ['--import', 'tsx', TOOL, 'serve', String(port), host, String(bytes), String(rate)],
    { cwd: root },
  );
  const out = new Output(child);
  await out.waitFor(/listening/, 15_000);
  return out;
}

/** Starts one download from `vip:port` in the lab host `client`. */
export function download(
  lab: Lab,
  vip: string,
  port: number,
): { progress(mb: number): Promise<void>; done: Promise<StreamResult> } {
  const child = lab.spawn('client', process.execPath, ['--import', 'tsx', TOOL, 'get', vip, String(port)], {
    cwd: root,
  });
  const out = new Output(child);
  return {
    progress: async (mb) => {
      await out.waitFor(new RegExp(`^\\{"progress":${mb}\\}$`), 30_000);
    },
    done: out.waitFor(/"done":true/, 150_000).then((l) => JSON.parse(l) as StreamResult),
  };
}
