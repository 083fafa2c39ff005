/** The options and exit statuses of `tandem run`, shared by the daemon, its supervisor and `tandem release`. */
import type { LogFormat } from './log.ts';

/** Options of `tandem run`. */
export interface RunOptions {
  config: string;
  node?: string;
  logFormat: LogFormat;
  control?: string;
  /** Run without the supervisor (the child itself, or for debugging). @default false */
  noSupervisor?: boolean;
  /** Internal: this process is the supervised child. */
  child?: boolean;
  verbose?: boolean;
  /** keepalived's config id (`-i`); the CLI passes the host name by default. */
  configId?: string;
  /** HTTP API (issue 12): `--api ADDR:PORT`, over `api.listen`. */
  api?: string;
}

/**
 * Exit statuses of `tandem run` (documented in `tandem run --help` and docs/errors.md; systemd's
 * RestartPreventExitStatus can name the ones a restart does not cure).
 */
export const EXIT = {
  OK: 0,
  CONFIG: 1,
  CAPS: 4,
  LOCKED: 5,
  GAVE_UP: 6,
} as const;
