/**
 * Downloads datasets from their official sources into `<root>/<name>/`, resumably and with
 * checksums.
 *
 * Each file is fetched into `<root>/<name>/.download/<file>.part`; an interrupted download
 * resumes with an HTTP Range request (when the server answers 206; otherwise it starts over),
 * a connection cut mid-file is retried from where it stopped, and the finished file's MD5 must
 * match the published one (a mismatch deletes it). Archives (.tar.gz) are then extracted into
 * a temporary folder next to the dataset and their top-level folders renamed into place, so a
 * dataset folder is either complete or absent; plain files are renamed into place the same way.
 * Nothing is downloaded for a dataset that is already present (unless forced).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { datasetProblem, datasetSpec } from "./registry.ts";
import { extractTarFile } from "./tar.ts";

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
  /** What is happening: fetching bytes, checking the MD5, or extracting an archive. */
  phase: "download" | "verify" | "extract";
  /** The file (local name). */
  file: string;
  /** Its URL. */
  url: string;
  /** Bytes on disk so far (download), or files extracted so far (extract). */
  done: number;
  /** Total bytes when the server said (download); undefined otherwise. */
  total?: number;
  /** Whether this download continued a partial file. */
  resumed?: boolean;
}

/** Options of {@link downloadFile}. */
export interface DownloadFileOptions {
  /** Expected MD5 (lowercase hex); a mismatch deletes the file and throws. */
  md5?: string;
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
export async function md5File(path: string): Promise<string> {
  const hash = createHash("md5");
  const file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
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

/** An error reaching the server at all (no response): not retried. */
class UnreachableError extends Error {}

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
  const expected = options.md5?.toLowerCase();
  if (await exists(dest)) {
    if (!expected || (await md5File(dest)) === expected) return { ...result, cached: true };
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
        const manual = options.manualDir
          ? `; without network, fetch it elsewhere and place it (archives extracted) in ` +
            `${options.manualDir}/`
          : "";
        throw new Error(`cannot download ${url}: ${e.message}${manual}`, { cause: e.cause });
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
    options.onProgress?.({ phase: "verify", file, url, done: await sizeOf(part) });
    const got = await md5File(part);
    if (got !== expected) {
      await Deno.remove(part);
      throw new Error(
        `checksum mismatch for ${url}: MD5 ${got}, expected ${expected}; the download was ` +
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
export interface DownloadDatasetOptions extends Omit<DownloadFileOptions, "md5" | "manualDir"> {
  /** Download even when the dataset is already present (its folders are replaced). */
  force?: boolean;
  /**
   * A mirror: each file is fetched from `mirror` + its file name instead of the official URL
   * (checksums unchanged).
   */
  mirror?: string;
  /** Replace the official file list (tests). */
  sources?: readonly DownloadSource[];
}

/** What {@link downloadDataset} did. */
export interface DownloadDatasetResult {
  /** The dataset that was downloaded (after aliases). */
  name: string;
  /** The folder the dataset's loader reads. */
  dir: string;
  /** True when it was already present and nothing was fetched. */
  alreadyPresent: boolean;
  /** Per file: name, bytes fetched, resumed/restarted counts. */
  files: { file: string; url: string; fetched: number; resumes: number; restarts: number }[];
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
  const folder = `${root}/${target}`;
  const present = spec.find(root);
  // a copy with a file missing or broken is downloaded again (the fetched files replace it)
  if (present && !options.force && !(await datasetProblem(target, present))) {
    return { name: target, dir: present, alreadyPresent: true, files: [] };
  }
  const staging = `${folder}/.download`;
  await Deno.mkdir(staging, { recursive: true });
  const files: DownloadDatasetResult["files"] = [];
  const fetched: { source: DownloadSource; path: string; file: string }[] = [];
  try {
    for (const source of sources) {
      const file = source.file ??
        decodeURIComponent(new URL(source.url).pathname.split("/").pop()!);
      const url = options.mirror ? `${options.mirror.replace(/\/?$/, "/")}${file}` : source.url;
      const path = `${staging}/${file}`;
      const r = await downloadFile(url, path, { ...options, md5: source.md5, manualDir: folder });
      files.push({ file, url, fetched: r.fetched, resumes: r.resumes, restarts: r.restarts });
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
  const dir = spec.find(root);
  if (!dir) {
    throw new Error(
      `${target}: downloaded and extracted into ${folder}, but the files the loader expects ` +
        `are not there`,
    );
  }
  return { name: target, dir, alreadyPresent: false, files };
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
