/**
 * A minimal ZIP reader for PyTorch checkpoints: the central directory (ZIP64 included), stored
 * and deflated entries, CRC-32 checked. Entries are read on demand from a {@link ByteSource},
 * so a large checkpoint is never held in memory whole. Every offset and size is checked
 * against the file; a damaged archive throws a CheckpointError, never reads out of bounds.
 *
 * @module
 */

import * as zlib from "node:zlib";
import { type ByteSource, CheckpointError } from "./io.ts";
import { crc32, crc32js } from "../util/bytes.ts";

/** One file in the archive. */
export interface ZipEntry {
  /** Path inside the archive. */
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  /** General-purpose flags. */
  flags: number;
  /** CRC-32 of the uncompressed data. */
  crc32: number;
  /** Bytes in the archive. */
  compressedSize: number;
  /** Bytes once inflated. */
  size: number;
  /** Offset of the local file header. */
  localOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;

export { crc32, crc32js };

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(dv: DataView, at: number, file: string, what: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CheckpointError(file, `corrupt ZIP: ${what} ${v} is implausibly large`);
  }
  return Number(v);
}

const utf8 = new TextDecoder("utf-8");

/** Reads a ZIP archive's directory and its entries. */
export class ZipReader {
  /** Entries by name (the first one wins if a name repeats). */
  readonly entries: Map<string, ZipEntry> = new Map();
  /** Entry names in directory order. */
  readonly names: string[] = [];

  constructor(private readonly src: ByteSource) {
    const file = src.name;
    // End of central directory: 22 bytes + a comment of up to 65535 bytes, at the very end.
    if (src.size < 22) throw new CheckpointError(file, "not a ZIP archive (too short)");
    const tailLen = Math.min(src.size, 22 + 65535);
    const tailStart = src.size - tailLen;
    const tail = src.read(tailStart, tailLen, "ZIP end of central directory");
    const tv = view(tail);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD && i + 22 + tv.getUint16(i + 20, true) <= tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      throw new CheckpointError(
        file,
        "no ZIP end-of-central-directory record: the file is truncated or not a ZIP archive",
      );
    }
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    const eocdAbs = tailStart + eocd;
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      if (eocdAbs < 20) throw new CheckpointError(file, "corrupt ZIP: ZIP64 locator missing");
      const loc = view(src.read(eocdAbs - 20, 20, "ZIP64 locator"));
      if (loc.getUint32(0, true) !== SIG_ZIP64_LOCATOR) {
        throw new CheckpointError(file, "corrupt ZIP: ZIP64 end-of-directory locator missing");
      }
      const z64At = u64(loc, 8, file, "ZIP64 directory offset");
      const z = view(src.read(z64At, 56, "ZIP64 end of central directory"));
      if (z.getUint32(0, true) !== SIG_ZIP64_EOCD) {
        throw new CheckpointError(file, "corrupt ZIP: bad ZIP64 end-of-directory signature");
      }
      count = u64(z, 32, file, "entry count");
      cdSize = u64(z, 40, file, "central directory size");
      cdOffset = u64(z, 48, file, "central directory offset");
    }
    if (cdOffset + cdSize > src.size) {
      throw new CheckpointError(
        file,
        `corrupt ZIP: central directory (bytes ${cdOffset}..${cdOffset + cdSize}) lies beyond ` +
          `the end of the file (${src.size} bytes; truncated?)`,
      );
    }
    const cd = src.read(cdOffset, cdSize, "ZIP central directory");
    const dv = view(cd);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 46 > cd.length || dv.getUint32(at, true) !== SIG_CENTRAL) {
        throw new CheckpointError(
          file,
          `corrupt ZIP: central directory entry ${i} of ${count} is damaged`,
        );
      }
      const flags = dv.getUint16(at + 8, true);
      const method = dv.getUint16(at + 10, true);
      const crc = dv.getUint32(at + 16, true);
      let compressedSize = dv.getUint32(at + 20, true);
      let size = dv.getUint32(at + 24, true);
      const nameLen = dv.getUint16(at + 28, true);
      const extraLen = dv.getUint16(at + 30, true);
      const commentLen = dv.getUint16(at + 32, true);
      let localOffset = dv.getUint32(at + 42, true);
      const end = at + 46 + nameLen + extraLen + commentLen;
      if (end > cd.length) {
        throw new CheckpointError(file, `corrupt ZIP: central directory entry ${i} is cut short`);
      }
      const name = utf8.decode(cd.subarray(at + 46, at + 46 + nameLen));
      // ZIP64 extended information: the 64-bit values of the fields that hold 0xffffffff.
      let e = at + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = dv.getUint16(e, true);
        const len = dv.getUint16(e + 2, true);
        if (e + 4 + len > extraEnd) break;
        if (id === 0x0001) {
          let p = e + 4;
          const take = (what: string): number => {
            if (p + 8 > e + 4 + len) {
              throw new CheckpointError(file, `corrupt ZIP: ZIP64 field of "${name}" too short`);
            }
            const v = u64(dv, p, file, what);
            p += 8;
            return v;
          };
          if (size === 0xffffffff) size = take("size");
          if (compressedSize === 0xffffffff) compressedSize = take("compressed size");
          if (localOffset === 0xffffffff) localOffset = take("local header offset");
        }
        e += 4 + len;
      }
      const entry: ZipEntry = {
        name,
        method,
        flags,
        crc32: crc,
        compressedSize,
        size,
        localOffset,
      };
      if (!this.entries.has(name)) this.entries.set(name, entry);
      this.names.push(name);
      at = end;
    }
  }

  /** Whether the archive has an entry. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The uncompressed bytes of an entry, CRC-checked. */
  read(name: string): Uint8Array {
    const file = this.src.name;
    const entry = this.entries.get(name);
    if (!entry) throw new CheckpointError(file, `the archive has no entry "${name}"`);
    if (entry.flags & 1) {
      throw new CheckpointError(file, `ZIP entry "${name}" is encrypted; not supported`);
    }
    const local = view(this.src.read(entry.localOffset, 30, `local header of "${name}"`));
    if (local.getUint32(0, true) !== SIG_LOCAL) {
      throw new CheckpointError(file, `corrupt ZIP: bad local header for "${name}"`);
    }
    const dataAt = entry.localOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    const raw = this.src.read(dataAt, entry.compressedSize, `data of "${name}"`);
    let data: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) {
        throw new CheckpointError(
          file,
          `corrupt ZIP: stored entry "${name}" has ${entry.compressedSize} bytes, its ` +
            `directory says ${entry.size}`,
        );
      }
      data = raw;
    } else if (entry.method === 8) {
      try {
        const out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) });
        data = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      } catch (e) {
        throw new CheckpointError(
          file,
          `corrupt ZIP: cannot inflate "${name}": ${(e as Error).message}`,
          { cause: e },
        );
      }
      if (data.byteLength !== entry.size) {
        throw new CheckpointError(
          file,
          `corrupt ZIP: "${name}" inflates to ${data.byteLength} bytes, its directory says ` +
            `${entry.size}`,
        );
      }
    } else {
      throw new CheckpointError(
        file,
        `ZIP entry "${name}" uses compression method ${entry.method}; only stored (0) and ` +
          "deflate (8) are supported",
      );
    }
    const crc = crc32(data);
    if (crc !== entry.crc32) {
      throw new CheckpointError(
        file,
        `corrupt ZIP: CRC-32 of "${name}" is ${crc.toString(16)}, expected ` +
          `${entry.crc32.toString(16)} (damaged data)`,
      );
    }
    return data;
  }
}
