// Types of run-workerd.mjs (plain JavaScript, so that bench/ runs it too).
export function runtimeBinary(name: string): string | null;
export function bundleWorker(out: string): Promise<void>;
export function startWorkerd(
  dir: string,
  prefix?: string[],
  ca?: string | Buffer,
): Promise<{ base: string; stop: () => Promise<unknown> }>;
