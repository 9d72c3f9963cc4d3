// `h2wasm bench URL [-n N] [-c C] [-m M] [-d SECONDS]`: a load generator on h2wasm's own
// client, shaped like h2load: C connections, M concurrent streams on each, until N
// requests are done or SECONDS have passed; a progress bar on stderr while it runs, then
// req/s, throughput, latency percentiles and status counts on stdout.
import { connect } from './node.js';
import type { ClientSession } from './client.js';

export interface BenchOptions {
  url: string;
  requests: number;
  connections: number;
  streams: number;
  seconds: number;
  insecure: boolean;
}

export interface BenchResult {
  done: number;
  failed: number;
  bytes: number;
  elapsedMs: number;
  latenciesMs: number[];
  statuses: Map<number, number>;
  errors: Map<string, number>;
}

export async function runBench(
  o: BenchOptions,
  progress: (done: number, total: number, elapsedMs: number) => void,
): Promise<BenchResult> {
  const u = new URL(o.url);
  const path = u.pathname + u.search;
  const sessions: ClientSession[] = [];
  try {
    for (let i = 0; i < o.connections; i++) sessions.push(connect(u, { rejectUnauthorized: !o.insecure }));
    await Promise.all(sessions.map((s) => s.ready));
  } catch (e) {
    // The first connection's own error (refused, unresolvable, TLS…), not a wrapped string:
    // the CLI words it as `get` does. The other connections go with it.
    for (const s of sessions) s.destroy();
    throw e;
  }
  const result: BenchResult = {
    done: 0,
    failed: 0,
    bytes: 0,
    elapsedMs: 0,
    latenciesMs: [],
    statuses: new Map(),
    errors: new Map(),
  };
  const start = performance.now();
  const deadline = o.seconds > 0 ? start + o.seconds * 1000 : Infinity;
  let started = 0;
  const ticker = setInterval(() => progress(result.done + result.failed, o.requests, performance.now() - start), 200);
  const worker = async (session: ClientSession) => {
    while (started < o.requests && performance.now() < deadline) {
      started++;
      const t0 = performance.now();
      try {
        const res = await session.request({ path });
        for await (const chunk of res.body) result.bytes += chunk.length;
        result.statuses.set(res.status, (result.statuses.get(res.status) ?? 0) + 1);
        result.latenciesMs.push(performance.now() - t0);
        result.done++;
      } catch (e) {
        result.failed++;
        const key = (e as Error).message.split(':')[0];
        result.errors.set(key, (result.errors.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(sessions.flatMap((s) => Array.from({ length: o.streams }, () => worker(s))));
  clearInterval(ticker);
  result.elapsedMs = performance.now() - start;
  progress(result.done + result.failed, o.requests, result.elapsedMs);
  await Promise.all(sessions.map((s) => s.close().catch(() => {})));
  return result;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;

export function formatBench(o: BenchOptions, r: BenchResult): string {
  const secs = r.elapsedMs / 1000;
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  const ms = (v: number) => `${v.toFixed(2)}ms`;
  const statuses =
    [...r.statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ') || 'none';
  const lines = [
    `finished in ${secs.toFixed(2)}s, ${(r.done / secs).toFixed(2)} req/s, ${(r.bytes / secs / 1e6).toFixed(2)}MB/s (body bytes)`,
    `requests: ${r.done + r.failed} done, ${r.done} succeeded, ${r.failed} failed (${o.connections} connections × ${o.streams} streams)`,
    `status codes: ${statuses}`,
    `latency: min ${ms(sorted[0] ?? 0)}, p50 ${ms(percentile(sorted, 50))}, p90 ${ms(percentile(sorted, 90))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted[sorted.length - 1] ?? 0)}`,
  ];
  for (const [e, n] of r.errors) lines.push(`errors: ${n} × ${e}`);
  return lines.join('\n');
}

/** A one-line progress bar for stderr (redrawn in place on a terminal). */
export function progressBar(done: number, total: number, elapsedMs: number): string {
  const width = 30;
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(frac * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${(elapsedMs / 1000).toFixed(1)}s`;
}
