/**
 * A small tar reader (ustar, GNU long names, pax path/size records) that extracts a stream,
 * gzipped or not, into a folder without holding the archive in memory; and a writer for tests.
 *
 * Only regular files and directories are written. Entries that would land outside the
 * destination (absolute paths, `..`) are refused; links, devices and macOS `._*` metadata
 * files are skipped and listed. Header checksums are verified and a truncated archive is an
 * error naming the entry.
 *
 * @module
 */

import { concatBytes } from "../util/bytes.ts";

const BLOCK = 512;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** What {@link extractTar} wrote. */
export interface TarExtractResult {
  /** Regular files written. */
  files: number;
  /** Directories created (from directory entries). */
  dirs: number;
  /** Bytes of file data written. */
  bytes: number;
  /** Entries not written ("path (why)"). */
  skipped: string[];
}

/** One tar header, decoded. */
interface Header {
  name: string;
  size: number;
  type: string;
  mode: number;
}

function cString(block: Uint8Array, off: number, len: number): string {
  const field = block.subarray(off, off + len);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

/** A numeric field: octal text, or GNU base-256 when the high bit of the first byte is set. */
function numberField(block: Uint8Array, off: number, len: number, where: string): number {
  if (block[off] & 0x80) {
    let v = block[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + block[off + i];
    return v;
  }
  const text = cString(block, off, len).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`${where}: bad numeric field "${text}"`);
  return parseInt(text, 8);
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function parseHeader(block: Uint8Array, where: string): Header {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  const stored = numberField(block, 148, 8, where);
  if (stored !== sum) {
    throw new Error(`${where}: bad tar header checksum (stored ${stored}, computed ${sum})`);
  }
  let name = cString(block, 0, 100);
  const magic = cString(block, 257, 6);
  if (magic.startsWith("ustar")) {
    const prefix = cString(block, 345, 155);
    if (prefix && magic === "ustar") name = `${prefix}/${name}`;
  }
  return {
    name,
    size: numberField(block, 124, 12, where),
    type: String.fromCharCode(block[156] || 48), // NUL = regular file
    mode: numberField(block, 100, 8, where),
  };
}

/** Parses pax extended-header records ("LEN key=value\n"). */
function parsePax(data: Uint8Array, where: string): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < data.length) {
    let sp = off;
    while (sp < data.length && data[sp] !== 0x20) sp++;
    const len = Number(decoder.decode(data.subarray(off, sp)));
    if (!Number.isInteger(len) || len <= 0 || off + len > data.length) {
      throw new Error(`${where}: malformed pax record at byte ${off}`);
    }
    const record = decoder.decode(data.subarray(sp + 1, off + len - 1));
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    off += len;
  }
  return out;
}

/** The entry's path relative to the destination, or throws for one that would escape it. */
export function safeTarPath(name: string): string {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (name.startsWith("/") || parts.some((p) => p === "..")) {
    throw new Error(`tar: refusing unsafe entry path "${name}"`);
  }
  return parts.join("/");
}

/** Buffered exact-size reads over a byte stream. */
class ByteReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #off = 0;
  /** Bytes consumed so far (for error messages). */
  position = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  async #fill(): Promise<boolean> {
    while (this.#off >= this.#buf.length) {
      const { done, value } = await this.#reader.read();
      if (done) return false;
      this.#buf = value;
      this.#off = 0;
    }
    return true;
  }

  /** Up to `max` bytes (at least 1), or null at the end of the stream. */
  async some(max: number): Promise<Uint8Array | null> {
    if (!(await this.#fill())) return null;
    const n = Math.min(max, this.#buf.length - this.#off);
    const out = this.#buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    this.position += n;
    return out;
  }

  /** Exactly `n` bytes; fewer only at the end of the stream. */
  async exact(n: number): Promise<Uint8Array> {
    const first = await this.some(n);
    if (!first || first.length === n) return first ?? new Uint8Array(0);
    const out = new Uint8Array(n);
    out.set(first);
    let got = first.length;
    while (got < n) {
      const more = await this.some(n - got);
      if (!more) return out.subarray(0, got);
      out.set(more, got);
      got += more.length;
    }
    return out;
  }

  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      const chunk = await this.some(n);
      if (!chunk) return false;
      n -= chunk.length;
    }
    return true;
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

/**
 * The first bytes of a stream (at least 2 unless it is shorter) and a stream that replays them
 * followed by the rest, pulled on demand (so memory stays bounded).
 */
async function sniffable(
  stream: ReadableStream<Uint8Array>,
): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const src = stream.getReader();
  const buffered: Uint8Array[] = [];
  let have = 0;
  let ended = false;
  while (have < 2) {
    const { done, value } = await src.read();
    if (done) {
      ended = true;
      break;
    }
    buffered.push(value);
    have += value.length;
  }
  const head = new Uint8Array(Math.min(2, have));
  let off = 0;
  for (const b of buffered) {
    if (off >= head.length) break;
    const n = Math.min(b.length, head.length - off);
    head.set(b.subarray(0, n), off);
    off += n;
  }
  const replay = new ReadableStream<Uint8Array>({
    start(c) {
      for (const b of buffered) c.enqueue(b);
      if (ended) c.close();
    },
    async pull(c) {
      const { done, value } = await src.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel(reason) {
      return src.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return { head, stream: replay };
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await file.write(data.subarray(off));
}

/** Options of {@link extractTar}. */
export interface ExtractOptions {
  /** Called after each file is written, with its relative path and size. */
  onEntry?: (path: string, size: number) => void;
  /** Names the archive in error messages. */
  source?: string;
}

/**
 * Extracts a tar stream into `dest` (created if needed). The stream may be gzip-compressed
 * (detected by its magic bytes). Throws on a corrupt or truncated archive, naming the entry.
 */
export async function extractTar(
  stream: ReadableStream<Uint8Array>,
  dest: string,
  options: ExtractOptions = {},
): Promise<TarExtractResult> {
  const source = options.source ?? "tar";
  const rest = await sniffable(stream);
  const gz = rest.head.length >= 2 && rest.head[0] === 0x1f && rest.head[1] === 0x8b;
  const input = gz
    ? rest.stream.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    )
    : rest.stream;
  const reader = new ByteReader(input);
  const result: TarExtractResult = { files: 0, dirs: 0, bytes: 0, skipped: [] };
  const made = new Set<string>();
  const mkdir = async (dir: string) => {
    if (made.has(dir)) return;
    await Deno.mkdir(dir, { recursive: true });
    made.add(dir);
  };
  await mkdir(dest);
  let longName: string | undefined;
  let pax = new Map<string, string>();
  try {
    while (true) {
      const at = reader.position;
      const block = await reader.exact(BLOCK);
      if (block.length === 0) break; // end of stream without the zero blocks: accepted
      if (block.length < BLOCK) throw new Error(`${source}: truncated tar header at byte ${at}`);
      if (isZeroBlock(block)) break;
      const where = `${source} (entry at byte ${at})`;
      const h = parseHeader(block, where);
      const size = pax.has("size") ? Number(pax.get("size")) : h.size;
      const name = pax.get("path") ?? longName ?? h.name;
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (h.type === "L" || h.type === "K" || h.type === "x" || h.type === "g") {
        const data = await reader.exact(padded);
        if (data.length < padded) throw new Error(`${where}: truncated extended header`);
        if (h.type === "L") longName = cString(data, 0, size);
        else if (h.type === "x") pax = parsePax(data.subarray(0, size), where);
        continue; // link names (K) and global pax headers (g) carry nothing we use
      }
      longName = undefined;
      pax = new Map();
      const rel = safeTarPath(name);
      const base = rel.slice(rel.lastIndexOf("/") + 1);
      const isFile = h.type === "0" || h.type === "7";
      if (h.type === "5") {
        if (rel) await mkdir(`${dest}/${rel}`);
        result.dirs++;
      } else if (isFile && base.startsWith("._")) {
        result.skipped.push(`${rel} (macOS metadata)`);
      } else if (!isFile) {
        result.skipped.push(`${rel} (tar entry type '${h.type}')`);
      }
      if (!isFile || base.startsWith("._") || !rel) {
        if (!(await reader.skip(padded))) throw new Error(`${where}: truncated data of "${name}"`);
        continue;
      }
      const slash = rel.lastIndexOf("/");
      if (slash > 0) await mkdir(`${dest}/${rel.slice(0, slash)}`);
      const file = await Deno.open(`${dest}/${rel}`, { write: true, create: true, truncate: true });
      try {
        let left = size;
        while (left > 0) {
          const chunk = await reader.some(left);
          if (!chunk) {
            throw new Error(
              `${where}: truncated data of "${name}" (${size - left} of ${size} bytes)`,
            );
          }
          await writeAll(file, chunk);
          left -= chunk.length;
        }
      } finally {
        file.close();
      }
      if (!(await reader.skip(padded - size))) {
        throw new Error(`${where}: truncated padding after "${name}"`);
      }
      result.files++;
      result.bytes += size;
      options.onEntry?.(rel, size);
    }
  } catch (e) {
    await reader.cancel();
    const msg = (e as Error).message;
    if (msg.startsWith(source) || msg.startsWith("tar:")) throw e;
    throw new Error(`${source}: corrupt archive (${msg})`, { cause: e });
  }
  await reader.cancel();
  return result;
}

/** Extracts a .tar or .tar.gz file into `dest`. */
export async function extractTarFile(
  path: string,
  dest: string,
  options: Omit<ExtractOptions, "source"> = {},
): Promise<TarExtractResult> {
  const file = await Deno.open(path, { read: true });
  return await extractTar(file.readable, dest, { ...options, source: path });
}

/** An entry for {@link createTar}. */
export interface TarEntry {
  /** Path inside the archive ("dir/file.bin"); a directory ends with "/" or has no data. */
  name: string;
  /** File contents (omit for a directory). */
  data?: Uint8Array;
  /** Entry type character (default "0" for files, "5" for directories). */
  type?: string;
}

function writeString(block: Uint8Array, off: number, len: number, text: string): void {
  const bytes = encoder.encode(text);
  if (bytes.length > len) throw new RangeError(`tar: "${text}" longer than ${len} bytes`);
  block.set(bytes, off);
}

function writeOctal(block: Uint8Array, off: number, len: number, v: number): void {
  writeString(block, off, len, v.toString(8).padStart(len - 1, "0"));
}

function header(name: string, size: number, type: string): Uint8Array {
  const block = new Uint8Array(BLOCK);
  let prefix = "";
  let short = name;
  if (encoder.encode(name).length > 100) {
    const cut = name.lastIndexOf("/");
    prefix = name.slice(0, cut);
    short = name.slice(cut + 1);
  }
  writeString(block, 0, 100, short);
  writeOctal(block, 100, 8, type === "5" ? 0o755 : 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, 0);
  block[156] = type.charCodeAt(0);
  writeString(block, 257, 6, "ustar");
  writeString(block, 263, 2, "00");
  writeString(block, 345, 155, prefix);
  block.fill(32, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  writeString(block, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return block;
}

/**
 * Builds a tar archive in memory (ustar; names over 100 bytes use the prefix field when they
 * split at a "/" into <= 155 + 100 bytes, else a GNU long-name entry).
 */
export function createTar(entries: readonly TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const type = e.type ?? (e.data === undefined || e.name.endsWith("/") ? "5" : "0");
    const data = e.data ?? new Uint8Array(0);
    const nameBytes = encoder.encode(e.name).length;
    const slash = e.name.lastIndexOf("/");
    const fitsPrefix = nameBytes <= 100 ||
      (slash > 0 && slash <= 155 && nameBytes - slash - 1 <= 100 && slash < nameBytes - 1);
    if (!fitsPrefix) {
      const long = encoder.encode(e.name + "\0");
      parts.push(header("././@LongLink", long.length, "L"), pad(long));
      parts.push(header(e.name.slice(0, 99), data.length, type));
    } else {
      parts.push(header(e.name, data.length, type));
    }
    if (data.length > 0) parts.push(pad(data));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  return concatBytes(parts);
}

function pad(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / BLOCK) * BLOCK);
  out.set(data);
  return out;
}
