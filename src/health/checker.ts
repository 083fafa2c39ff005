/**
 * The `Checker` contract: one run of one probe, bounded by the probe's own timeout and an AbortSignal (Rule 10), that
 * never rejects. `runProbe` dispatches to the real checkers; tests and the simulator pass their own.
 */
import { runHttpCheck } from './checkers/http.ts';
import { runScriptCheck } from './checkers/script.ts';
import { runTcpCheck } from './checkers/tcp.ts';
import type { CheckResult, Probe } from './types.ts';

/**
 * Runs one check of `spec`. Must resolve (never reject) within the probe's timeout, and soon after `signal` fires;
 * a run ended by the signal resolves with detail "aborted" and a failing code that means nothing (callers drop it).
 * @see HAProxy src/check.c (one check task per server); keepalived check_api.c (one checker thread per checker)
 */
export type Checker<P extends Probe = Probe> = (spec: P, signal: AbortSignal) => Promise<CheckResult>;

/**
 * The real checker for any probe: TCP_CHECK, HTTP_GET/SSL_GET or MISC_CHECK.
 * @example const r = await runProbe({ kind: 'tcp', addr: '198.18.1.12', port: 80, connectTimeoutMs: 3_000 }, signal)
 */
export const runProbe: Checker = (spec, signal) => {
  switch (spec.kind) {
    case 'tcp':
      return runTcpCheck(spec, signal);
    case 'http':
      return runHttpCheck(spec, signal);
    case 'script':
      return runScriptCheck(spec, signal);
  }
};
