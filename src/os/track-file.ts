/**
 * keepalived `track_file`: a file holding an integer that another program writes. keepalived reads it with
 * `strtol(buf, NULL, 0)` (so `0x10` and `010` are 16 and 8), treats a missing, unreadable or non-numeric file as 0,
 * clamps to -254..254 and then, per tracking instance: weight 0 → FAULT when the value is non-zero (with `reverse`,
 * when it is zero); otherwise priority += value × weight (× -1 with `reverse`), clamped to -254..253.
 *
 * The VRRP machine today only knows up/down trackers with a fixed weight, so the daemon maps a value with
 * `trackFileUp` (vrrp/trackers.ts), which is exact for the values 0 and 1 (the common "flag file" use) and approximate otherwise;
 * `trackFileDelta` (vrrp/trackers.ts) is keepalived's exact priority change, for when the machine learns variable weights.
 * @see keepalived vrrp_track.c process_track_file, update_track_file_status
 */
import { type FSWatcher, watch } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** keepalived's clamp on a track file's value. */
const VALUE_LIMIT = 254;

/**
 * Parses a track file's text like C `strtol(text, NULL, 0)`: leading blanks, an optional sign, then hex (`0x`),
 * octal (leading `0`) or decimal digits, stopping at the first other character; clamped to -254..254.
 * Undefined when there is no number (keepalived then uses 0).
 * @example parseTrackFileValue('  -5\n') // -5
 */
export function parseTrackFileValue(text: string): number | undefined {
  const m = /^[ \t\n\r\f\v]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (!m) return undefined;
  const digits = m[2]!;
  let n: number;
  if (/^0[xX]/.test(digits)) n = Number.parseInt(digits.slice(2), 16);
  else if (digits.startsWith('0')) n = digits.length > 1 ? Number.parseInt(digits.slice(1), 8) : 0;
  else n = Number.parseInt(digits, 10);
  if (m[1] === '-') n = -n;
  // Number.parseInt never gives NaN here (the regex checked the digits); a huge value is Infinity and clamps.
  return Math.min(VALUE_LIMIT, Math.max(-VALUE_LIMIT, n)) || 0;
}

/**
 * Reads a track file: its value, or undefined when it is missing, unreadable or holds no number. Reads at most the
 * first 127 bytes, as keepalived does.
 */
export async function readTrackFile(path: string): Promise<number | undefined> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(127);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return parseTrackFileValue(buf.subarray(0, bytesRead).toString('latin1'));
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * keepalived `init_file`: writes `value` to the file unless it already exists (or always, with `overwrite`).
 * Converging: reports whether it wrote.
 */
export async function ensureTrackFile(path: string, value: number, overwrite = false): Promise<boolean> {
  try {
    await writeFile(path, `${value}\n`, { flag: overwrite ? 'w' : 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** Options of a TrackFileWatcher. */
export interface TrackFileWatcherOptions {
  path: string;
  /** Stops watching. */
  signal: AbortSignal;
  /** Called with the new value when it changes (missing or non-numeric counts as 0, as in keepalived). */
  onChange: (value: number) => void;
  /**
   * Re-read the file this often as well: fs.watch misses changes on some file systems (NFS, bind mounts) and cannot
   * watch a directory that does not exist yet. @default 1000
   */
  pollMs?: number;
  /**
   * Wait this long after a change event before reading: `echo 1 > file` truncates before it writes, and reading in
   * between would report a transient 0 (and flap the instance's priority). keepalived avoids it with inotify
   * IN_CLOSE_WRITE, which fs.watch cannot select. Writers that rename a finished file into place need no delay.
   * @default 50
   */
  settleMs?: number;
}

/**
 * Watches a track file: fs.watch on its directory (so an atomic rename-into-place is seen too) plus a poll. Reads are
 * serialised, so values are reported in the order they were read and never twice in a row.
 * @example const w = new TrackFileWatcher({ path: '/run/prio', signal, onChange: (v) => machine.tracker('file:prio', trackFileUp(v, weight)) }); const v0 = await w.start();
 */
export class TrackFileWatcher {
  readonly #opts: TrackFileWatcherOptions;
  #value = 0;
  #watcher: FSWatcher | null = null;
  #reading = false;
  #again = false;
  #started: Promise<number> | null = null;
  #settling: NodeJS.Timeout | null = null;

  constructor(opts: TrackFileWatcherOptions) {
    this.#opts = opts;
  }

  /** The last value read (0 before `start`). */
  get value(): number {
    return this.#value;
  }

  /** Reads the initial value (without calling onChange) and starts watching. Idempotent. */
  start(): Promise<number> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<number> {
    this.#value = (await readTrackFile(this.#opts.path)) ?? 0;
    if (this.#opts.signal.aborted) return this.#value;
    this.#opts.signal.addEventListener('abort', () => this.#unwatch(), { once: true });
    this.#watch();
    void this.#poll();
    return this.#value;
  }

  #watch(): void {
    if (this.#watcher || this.#opts.signal.aborted) return;
    const name = basename(this.#opts.path);
    try {
      this.#watcher = watch(dirname(this.#opts.path), { persistent: false }, (_event, file) => {
        // Some platforms give no file name: re-read then too.
        if (file === null || file === name) this.#settle();
      });
      this.#watcher.on('error', () => this.#unwatch()); // e.g. the directory was removed; the poll re-arms it
    } catch {
      this.#watcher = null; // the directory does not exist (yet); the poll keeps trying
    }
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#opts.signal.aborted && this.#settling) clearTimeout(this.#settling);
  }

  /** Coalesces a burst of change events into one read, `settleMs` after the first. */
  #settle(): void {
    if (this.#settling) return;
    this.#settling = setTimeout(
      () => {
        this.#settling = null;
        this.#check();
      },
      Math.max(0, this.#opts.settleMs ?? 50),
    );
  }

  async #poll(): Promise<void> {
    const pollMs = Math.max(10, this.#opts.pollMs ?? 1_000);
    // Bounded by the abort signal; one read per period.
    while (!this.#opts.signal.aborted) {
      try {
        await sleep(pollMs, undefined, { signal: this.#opts.signal });
      } catch {
        return;
      }
      this.#watch();
      this.#check();
    }
  }

  /** Re-reads the file; a request during a read makes one more read after it. */
  #check(): void {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    void (async () => {
      try {
        do {
          this.#again = false;
          const v = (await readTrackFile(this.#opts.path)) ?? 0;
          if (this.#opts.signal.aborted) return;
          if (v !== this.#value) {
            this.#value = v;
            try {
              this.#opts.onChange(v);
            } catch {
              // a subscriber's bug must not stop the watcher
            }
          }
        } while (this.#again);
      } finally {
        this.#reading = false;
      }
    })();
  }
}
