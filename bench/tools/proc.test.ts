import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStatCpuTicks, parseStatusKb, readProc } from './proc.ts';

test('CPU ticks are utime + stime, counted after the command name even when it holds spaces and parentheses', () => {
  const stat =
    '4242 (node (lb) x) S 1 4242 4242 0 -1 4194560 25094 0 0 0 1234 567 0 0 20 0 11 0 8812 1196589056 16384 18446744073709551615';
  assert.equal(parseStatCpuTicks(stat), 1234 + 567);
});

test('VmRSS and VmHWM are read in kB and given in bytes', () => {
  const status = 'Name:\tnode\nVmHWM:\t   81920 kB\nVmRSS:\t   65536 kB\nThreads:\t11\n';
  assert.equal(parseStatusKb(status, 'VmRSS'), 65536 * 1024);
  assert.equal(parseStatusKb(status, 'VmHWM'), 81920 * 1024);
  assert.throws(() => parseStatusKb('Name:\tx\n', 'VmRSS'), /no VmRSS/);
});

test('this very process can be read, and its CPU time does not go backwards', () => {
  const a = readProc(process.pid);
  let x = 0;
  for (let i = 0; i < 1e6; i++) x += i;
  const b = readProc(process.pid);
  assert.ok(x > 0 && b.cpuTicks >= a.cpuTicks);
  assert.ok(a.rssBytes > 1024 * 1024 && a.hwmBytes >= a.rssBytes);
});
