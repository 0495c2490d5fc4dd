/**
 * Shared plumbing of the checkpoint formats: the error type, random-access byte sources (a
 * file read piece by piece, or bytes in memory) and atomic file writes.
 *
 * @module
 */

import { writeAtomic } from "../util/atomic_write.ts";

/** A checkpoint that cannot be read or written; the message names the file and the problem. */
export class CheckpointError extends Error {
  /** The file (or "<bytes>" for in-memory data) the error is about. */
  readonly file: string;

  /** An error about `file`: the message reads "<file>: <problem>". */
  constructor(file: string, problem: string, options?: ErrorOptions) {
    super(`${file}: ${problem}`, options);
    this.name = "CheckpointError";
    this.file = file;
  }
}

/** Where a checkpoint is read from: a path, a file URL or the file's bytes. */
export type CheckpointSource = string | URL | Uint8Array;

/** Random access to a checkpoint's bytes (internal). */
export interface ByteSource {
  /** The file name for messages ("<bytes>" for memory). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** `length` bytes from `offset`; throws a CheckpointError past the end. */
  read(offset: number, length: number, what: string): Uint8Array;
  /** Releases the file (a no-op for memory). */
  close(): void;
}

function displayName(source: string | URL): string {
  return source instanceof URL
    ? (source.protocol === "file:" ? source.pathname : source.href)
    : source;
}

class MemorySource implements ByteSource {
  readonly name = "<bytes>";
  readonly size: number;
  constructor(private readonly bytes: Uint8Array) {
    this.size = bytes.byteLength;
  }
  read(offset: number, length: number, what: string): Uint8Array {
    checkRange(this, offset, length, what);
    return this.bytes.subarray(offset, offset + length);
  }
  close(): void {}
}

class FileSource implements ByteSource {
  readonly size: number;
  #file: Deno.FsFile | null;
  constructor(readonly name: string, file: Deno.FsFile) {
    this.#file = file;
    this.size = file.statSync().size;
  }
  read(offset: number, length: number, what: string): Uint8Array {
    checkRange(this, offset, length, what);
    const file = this.#file;
    if (!file) throw new CheckpointError(this.name, "internal error: file already closed");
    const out = new Uint8Array(length);
    file.seekSync(offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < length) {
      const n = file.readSync(out.subarray(done));
      if (n === null || n === 0) {
        throw new CheckpointError(
          this.name,
          `${what}: the file ended after ${offset + done} bytes while reading bytes ` +
            `${offset}..${offset + length} (was it truncated while being read?)`,
        );
      }
      done += n;
    }
    return out;
  }
  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}

function checkRange(src: ByteSource, offset: number, length: number, what: string): void {
  if (
    !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 ||
    offset + length > src.size
  ) {
    throw new CheckpointError(
      src.name,
      `${what}: bytes ${offset}..${offset + length} lie beyond the end of the data ` +
        `(${src.size} bytes; truncated file?)`,
    );
  }
}

/** Opens a path, file URL or byte array for reading (internal). */
export function openSource(source: CheckpointSource): ByteSource {
  if (source instanceof Uint8Array) return new MemorySource(source);
  const name = displayName(source);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(source, { read: true });
  } catch (e) {
    throw new CheckpointError(name, `cannot open: ${(e as Error).message}`, { cause: e });
  }
  try {
    if (!file.statSync().isFile) throw new CheckpointError(name, "not a regular file");
    return new FileSource(name, file);
  } catch (e) {
    file.close();
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(name, `cannot read: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Writes a file atomically (src/util/atomic_write.ts: a temporary file in the same folder,
 * fsync, rename, fsync of the folder); a failure is a CheckpointError naming the file, and any
 * previous file at `path` is left as it was.
 */
export function writeFileAtomic(path: string | URL, chunks: Iterable<Uint8Array>): void {
  const target = displayName(path);
  try {
    writeAtomic(target, chunks);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(target, `write failed: ${(e as Error).message}`, { cause: e });
  }
}
