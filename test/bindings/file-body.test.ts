// serve --dir's file bodies: a chunk per pull at each response's own offset, through one
// descriptor per file however many responses read it (300 peers that never read used to
// hold 30,000 descriptors, and the next open() failed with EMFILE), closed with the last.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, statSync, renameSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileBody } from '../../bindings/file-body.js';
import { PULL_CHUNK } from '../../bindings/server-conn.js';

const descriptors = () => readdirSync('/proc/self/fd').length;
const drain = (it: Iterator<Uint8Array>) => {
  const parts: Uint8Array[] = [];
  for (let r = it.next(); !r.done; r = it.next()) parts.push(r.value);
  return Buffer.concat(parts);
};

describe.skipIf(process.platform !== 'linux')('file bodies', () => {
  let dir: string;
  let path: string;
  let content: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'h2wasm-file-body-'));
    path = join(dir, 'f');
    content = randomBytes(3 * PULL_CHUNK + 123);
    writeFileSync(path, content);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('share one descriptor across 1000 responses, each reading at its own offset', () => {
    const before = descriptors();
    const st = statSync(path);
    const bodies = Array.from({ length: 1000 }, () => fileBody(path, st));
    const got = bodies.map(() => [] as Uint8Array[]);
    // Every response pulls its first chunk and waits (a peer that stopped reading).
    bodies.forEach((b, i) => got[i].push(b.next().value as Uint8Array));
    expect(descriptors() - before, 'descriptors held by 1000 waiting responses').toBe(1);
    // They go on in another order, interleaved.
    for (let i = bodies.length - 1; i >= 0; i--) got[i].push(drain(bodies[i]));
    for (const parts of got) expect(Buffer.concat(parts).equals(content)).toBe(true);
    expect(descriptors(), 'descriptors once every response ended').toBe(before);
  });

  it('close the descriptor when a response is cut short, and open none for one never pulled', () => {
    const before = descriptors();
    const st = statSync(path);
    const never = fileBody(path, st);
    expect(descriptors()).toBe(before);
    const cut = fileBody(path, st);
    cut.next();
    expect(descriptors()).toBe(before + 1);
    cut.return(undefined);
    never.return(undefined);
    expect(descriptors()).toBe(before);
  });

  it('fail a response whose file was replaced between its stat and its first read', () => {
    const st = statSync(path);
    const next = randomBytes(10);
    writeFileSync(join(dir, 'h'), next);
    renameSync(join(dir, 'h'), path);
    const before = descriptors();
    expect(() => fileBody(path, st).next()).toThrow(/changed/);
    expect(descriptors()).toBe(before);
    content = next; // what the file holds from here
  });

  it("keep a replaced file for its readers, give new ones the new file, and stop at the stat's size", () => {
    const st = statSync(path);
    const old = fileBody(path, st);
    const first = old.next().value as Uint8Array;
    const next = randomBytes(PULL_CHUNK + 7);
    writeFileSync(join(dir, 'g'), next);
    renameSync(join(dir, 'g'), path);
    const st2 = statSync(path);
    const fresh = fileBody(path, st2);
    appendFileSync(path, 'grown after the stat');
    expect(drain(fresh).equals(next)).toBe(true);
    expect(Buffer.concat([first, drain(old)]).equals(content)).toBe(true);
  });
});
