/** Where a command writes; tests pass buffers, the real CLI passes process.stdout/stderr. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** Collects output lines in memory (for tests). */
export function bufferIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}
