// A file as a response body for `h2wasm serve --dir`: read a chunk per pull, with no
// read-ahead (the response asks for the next chunk only when its stream has capacity), so a
// stream that waits holds no bytes. The descriptors are shared: every response reading the
// same file (the same inode and modification time) reads through one descriptor at its own
// offset, the way nginx's open_file_cache shares them. One descriptor per response let 300
// peers that never read hold 30,000 descriptors, and the process's next open() failed with
// EMFILE, a well-behaved client's among them.
import { openSync, readSync, closeSync, fstatSync, statSync, type Stats } from 'node:fs';
import { PULL_CHUNK, type FileOpener } from './server-conn.js';

interface OpenFile {
  fd: number;
  ino: number;
  mtimeMs: number;
  readers: number;
}

/** The files open now, by path; a file is closed when its last reader ends. */
const open = new Map<string, OpenFile>();

function acquire(path: string, st: Stats): OpenFile {
  const known = open.get(path);
  if (known && known.ino === st.ino && known.mtimeMs === st.mtimeMs) {
    known.readers++;
    return known;
  }
  const fd = openSync(path, 'r');
  let now: Stats;
  try {
    now = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  if (now.ino !== st.ino) {
    // Replaced since the response's head was made from `st`: its content-length describes
    // another file. The body fails (the stream is reset) rather than lie. (A file that only
    // grew is served up to the stat's size.)
    closeSync(fd);
    throw new Error(`${path} changed after its response began`);
  }
  const file: OpenFile = { fd, ino: now.ino, mtimeMs: now.mtimeMs, readers: 1 };
  // A file replaced on disk: its old readers keep their descriptor, new ones share this one.
  open.set(path, file);
  return file;
}

function release(path: string, file: OpenFile): void {
  if (--file.readers > 0) return;
  if (open.get(path) === file) open.delete(path);
  closeSync(file.fd);
}

/**
 * The first `st.size` bytes of the file at `path` (what its stat, and so the response's
 * content-length, said), opened on the first pull: a response that never gets to send
 * opens nothing. The reads are synchronous, as nginx's and nghttpd's are: thousands of
 * streams reading through libuv's four-thread pool would queue every other request's file
 * behind theirs.
 */
export function* fileBody(path: string, st: Stats): Generator<Uint8Array> {
  const file = acquire(path, st);
  try {
    for (let at = 0; at < st.size;) {
      // A buffer per pull, not one per response: a stream waiting between pulls (thousands of
      // them when peers stop reading) must hold no bytes (a kept buffer took RSS past 1.5 GB).
      const buffer = Buffer.allocUnsafe(Math.min(PULL_CHUNK, st.size - at));
      const n = readSync(file.fd, buffer, 0, buffer.length, at);
      if (n === 0) return; // the file shrank: the peer sees the body end short
      at += n;
      yield buffer.subarray(0, n);
    }
  } finally {
    release(path, file);
  }
}

/**
 * Opens the file at `path` for a zero-copy answer (respondWithFile): its size from its
 * stat, frames filled from the shared descriptor with positioned reads. Throws (ENOENT, not
 * a file…) before anything is sent.
 */
export const openFileForZeroCopy: FileOpener = (path) => {
  const st = statSync(path);
  if (!st.isFile()) throw new Error(`h2wasm: ${path} is not a file`);
  const file = acquire(path, st);
  return {
    size: st.size,
    fill: (dst, at, len, position) => readSync(file.fd, dst, at, len, position),
    close: () => release(path, file),
  };
};
