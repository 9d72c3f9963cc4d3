// Results for the interop table (docs/interop.md): each interop check appends one JSON
// line to test-results/interop.jsonl; scripts/interop-table.mjs (run by .ci/run after
// `npm test`) turns the file into the table. Appends are single small writes, so test
// files running in parallel workers do not interleave lines.
import { describe, it, expect } from 'vitest';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';

export const RESULTS = join(ROOT, 'test-results', 'interop.jsonl');

function append(entry: Record<string, unknown>): void {
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  appendFileSync(RESULTS, JSON.stringify({ ...entry, time: Date.now() }) + '\n');
}

/**
 * One row of the table. `direction` says who plays which role, e.g.
 * 'peer client → h2wasm serve() (h2c)' or 'h2wasm connect() → peer server (TLS)'; `check` is what
 * was verified, in a few words; `ok` whether it held.
 */
export function record(peer: string, version: string, direction: string, check: string, ok: boolean): void {
  append({ peer, version, direction, check, ok });
}

/** A peer whose checks did not run (not installed); shown as one "skipped" row. */
export function recordSkipped(peer: string, reason = 'not installed'): void {
  append({ peer, version: '', direction: '', check: reason, ok: null });
}

/**
 * Runs `fn` (the test's assertions) and records whether it passed; rethrows its failure,
 * so the test fails exactly as it would without the record.
 */
export async function recorded<T>(
  peer: string,
  version: string,
  direction: string,
  check: string,
  fn: () => T | Promise<T>,
): Promise<T> {
  try {
    const value = await fn();
    record(peer, version, direction, check, true);
    return value;
  } catch (e) {
    record(peer, version, direction, check, false);
    throw e;
  }
}

/** The first dotted version number in a tool's `--version` output ('' when none). */
export function versionOf(output: string): string {
  return /\d+\.\d+(?:\.\d+)?/.exec(output)?.[0] ?? '';
}

/**
 * Whether a suite must skip for want of `missing` (peers, or what the machine lacks). Off CI
 * it skips with a line saying so; under CI (.ci/run installs every peer) a missing one is a
 * failing test, never a suite that silently turns green.
 */
export function skipForMissing(suite: string, missing: string[]): boolean {
  if (missing.length === 0) return false;
  if (process.env.CI) {
    describe(suite, () => {
      it('has what it needs on this machine', () => {
        expect(missing, `missing under CI: ${missing.join(', ')}`).toEqual([]);
      });
    });
    return true;
  }
  console.log(`interop: ${missing.join(', ')} missing, ${suite} is skipped`);
  return true;
}
