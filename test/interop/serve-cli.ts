// `h2wasm serve` as a process of its own, the way it is deployed: started on a port it
// picks (--port 0), its URL read from its first line, its resident memory read from
// /proc, stopped with the suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';

export const CLI = join(ROOT, 'dist', 'bindings', 'cli.js');

/** A process's resident set size in MiB (VmRSS); 0 once it is gone. */
export function rssMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every `everyMs`: the peak since the last reset. */
export class RssWatch {
  peak = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  constructor(
    private readonly pid: number,
    everyMs = 20,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  sample(): number {
    const v = rssMiB(this.pid);
    this.peak = Math.max(this.peak, v);
    return v;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

export interface ServeProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Its resident set size in MiB (VmRSS). */
  rssMiB(): number;
  stop(): Promise<void>;
}

/** Starts `h2wasm serve --port 0 …args`; resolves once it listens. */
export async function startServe(args: string[] = []): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => {
    err += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`h2wasm serve did not start: ${err}`)), 10000);
    proc.stderr!.on('data', () => {
      const m = /serving (\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`h2wasm serve exited (${code}): ${err}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    proc,
    stderr: () => err,
    rssMiB: () => rssMiB(proc.pid!),
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      }),
  };
}
