/**
 * One writer per run folder. Training, resuming, compare and sweep hold an exclusive lock on
 * the folder they write (the file `.hlgm-lock` inside it) for as long as they write, so two
 * processes never interleave a run: a second writer is refused at once, naming the owner.
 *
 * The lock is an OS file lock (flock): the kernel drops it when its process ends, however it
 * ends, so a killed writer never leaves a stale lock. The file also records the owner (pid,
 * host, start time, command) for the message. Where the file system has no file locks, the
 * file itself is the lock (created exclusively, removed on release) and is taken over only
 * when it names a process of this host that is gone.
 *
 * Readers (eval, sib, report, runs) never block: {@link runFolderWriter} says whether a
 * folder is being written now, and by whom.
 *
 * @module
 */

import { LIBRARY_VOCABULARY, type Renderable, type Vocabulary } from "../util/vocabulary.ts";

/** The lock file's name inside a run folder. */
export const LOCK_FILE = ".hlgm-lock";

/** Test hook: `1` makes this process lock as on a file system without file locks. */
export const NO_FLOCK_ENV = "HLGM_TEST_NO_FLOCK";

/**
 * Set by a launcher that holds a folder's lock for processes it starts (the ranks of
 * `train --nproc N`): the pid that holds it. Such a process writes under the launcher's lock.
 */
export const LOCK_HOLDER_ENV = "HLGM_RUN_LOCK_HOLDER";

/** Who holds a run folder's lock, as its lock file says. */
export interface LockOwner {
  /** Process id. */
  pid: number;
  /** Host name of that process. */
  host: string;
  /** When it took the lock (ISO 8601). */
  since: string;
  /** What it is doing (e.g. "train"). */
  what: string;
}

/** Raised when another process writes the folder. */
export class RunFolderBusyError extends Error implements Renderable {
  /** The folder. */
  readonly folder: string;
  /** The owner, when its lock file could be read. */
  readonly owner: LockOwner | null;
  /** `FOLDER is being written by pid N since HH:MM; wait for it or use another run folder`. */
  constructor(folder: string, owner: LockOwner | null) {
    super(busyText(folder, owner, LIBRARY_VOCABULARY));
    this.name = "RunFolderBusyError";
    this.folder = folder;
    this.owner = owner;
  }

  /** The message in vocabulary `v` (the CLI's: "... or use another --out"). */
  render(v: Vocabulary): string {
    return busyText(this.folder, this.owner, v);
  }
}

function busyText(folder: string, owner: LockOwner | null, v: Vocabulary): string {
  return `${writerText(folder, owner)}; wait for it or use ${v.anotherFolder()}`;
}

/** A held lock; release it when the writing is done (process exit releases it too). */
export interface RunFolderLock {
  /** The folder. */
  readonly folder: string;
  /** Releases this hold (the lock goes when every hold of this process is released). */
  release(): void;
  /** Same as {@link RunFolderLock.release}. */
  [Symbol.dispose](): void;
}

/** `FOLDER is being written by pid N[ on HOST] since HH:MM` (the date too when not today). */
export function writerText(folder: string, owner: LockOwner | null): string {
  return `${folder} is ${writerPhrase(owner)}`;
}

/** `being written by pid N[ on HOST] since HH:MM`, or `by another process` when unrecorded. */
export function writerPhrase(owner: LockOwner | null): string {
  if (!owner || owner.pid === 0) return "being written by another process";
  const host = owner.host === hostName() ? "" : ` on ${owner.host}`;
  return `being written by pid ${owner.pid}${host} since ${shownTime(owner.since)}`;
}

function shownTime(iso: string): string {
  const t = new Date(iso);
  if (isNaN(t.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  const hm = `${pad(t.getHours())}:${pad(t.getMinutes())}`;
  const now = new Date();
  return t.toDateString() === now.toDateString()
    ? hm
    : `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${hm}`;
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/** Whether `pid` is a live process of this host; true when that cannot be told (no /proc). */
function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      try {
        Deno.statSync("/proc/self");
        return false; // /proc works and has no such process
      } catch {
        return true;
      }
    }
    return true;
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    const j = JSON.parse(Deno.readTextFileSync(file));
    if (
      j && Number.isInteger(j.pid) && typeof j.host === "string" && typeof j.since === "string"
    ) {
      return { pid: j.pid, host: j.host, since: j.since, what: String(j.what ?? "") };
    }
  } catch {
    // missing, empty or cut: no owner recorded
  }
  return null;
}

/** An owner record names a process that may still run (on another host: cannot tell, so yes). */
function ownerLive(owner: LockOwner | null): boolean {
  return owner !== null && (owner.host !== hostName() || alive(owner.pid));
}

const useFlock = () => Deno.env.get(NO_FLOCK_ENV) !== "1";
const encode = (o: LockOwner) => new TextEncoder().encode(JSON.stringify(o) + "\n");

/** This process's holds, by the folder's real path. */
const held = new Map<
  string,
  {
    count: number;
    file: Deno.FsFile | null;
    lockFile: string;
    created: boolean;
    owner?: LockOwner;
  }
>();

function realFolder(folder: string): string {
  try {
    return Deno.realPathSync(folder);
  } catch {
    return folder;
  }
}

/** Tries an exclusive flock; null when the file system has no file locks. */
function tryFlock(file: Deno.FsFile): boolean | null {
  try {
    return file.tryLockSync(true);
  } catch {
    return null;
  }
}

const unique = () => `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;

/** Whether the file system holding `folder` has file locks (tried on a scratch file). */
function flockWorks(folder: string): boolean {
  if (!useFlock()) return false;
  const probe = `${folder}/${LOCK_FILE}-probe.${unique()}`;
  const f = Deno.openSync(probe, { read: true, write: true, createNew: true });
  try {
    return tryFlock(f) === true;
  } finally {
    f.close();
    Deno.removeSync(probe);
  }
}

/**
 * The lock-file protocol for file systems without flock: the file exists, naming its owner,
 * while held. It appears whole (written aside, then hard-linked into place, which fails when
 * one is there), and a stale one (naming a process of this host that is gone, or nobody) is
 * moved aside before it is judged again, so two takers cannot both win.
 */
function takeLockFile(lockFile: string, owner: LockOwner): boolean {
  for (let attempt = 0; attempt < 3; attempt++) {
    const tmp = `${lockFile}.${unique()}.tmp`;
    Deno.writeFileSync(tmp, encode(owner));
    try {
      Deno.linkSync(tmp, lockFile);
      return true;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    } finally {
      Deno.removeSync(tmp);
    }
    const seen = readOwner(lockFile);
    if (ownerLive(seen)) return false;
    const aside = `${lockFile}.${unique()}.stale`;
    try {
      Deno.renameSync(lockFile, aside);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue; // another taker moved it first
      throw e;
    }
    const moved = readOwner(aside);
    if (JSON.stringify(moved) !== JSON.stringify(seen)) {
      // taken by someone between the read and the move: put theirs back and yield
      try {
        Deno.linkSync(aside, lockFile);
      } catch { /* a third one holds it now */ }
      Deno.removeSync(aside);
      return false;
    }
    Deno.removeSync(aside);
  }
  return false;
}

/**
 * Takes the exclusive lock on run folder `folder` (created when missing) for `what` ("train",
 * "compare", ...), or throws {@link RunFolderBusyError} at once when another process holds
 * it. Holds of one process nest: the lock goes when each is released. A process started by a
 * launcher that holds the lock ({@link LOCK_HOLDER_ENV}) writes under it and takes none.
 */
export function lockRunFolder(folder: string, what: string): RunFolderLock {
  const created = !isFolder(folder);
  Deno.mkdirSync(folder, { recursive: true });
  const key = realFolder(folder);
  const lockFile = `${key}/${LOCK_FILE}`;
  const mine = held.get(key);
  if (mine) {
    mine.count++;
    return handle(folder, key);
  }
  const holder = Number(Deno.env.get(LOCK_HOLDER_ENV) ?? "");
  if (holder > 0) {
    const owner = readOwner(lockFile);
    if (owner?.pid === holder && owner.host === hostName() && alive(holder)) {
      held.set(key, { count: 1, file: null, lockFile: "", created: false }); // the launcher's
      return handle(folder, key);
    }
  }
  const owner: LockOwner = {
    pid: Deno.pid,
    host: hostName(),
    since: new Date().toISOString(),
    what,
  };
  const file = flockWorks(key) ? flockFile(folder, key, lockFile) : null;
  if (file) {
    try {
      file.truncateSync(0);
      file.writeSync(encode(owner));
    } catch (e) {
      file.close(); // a full disk, say: let the lock go with the error
      throw e;
    }
  } else if (!takeLockFile(lockFile, owner)) {
    throw new RunFolderBusyError(folder, readOwner(lockFile));
  }
  held.set(key, { count: 1, file, lockFile: file ? "" : lockFile, created, owner });
  return handle(folder, key);
}

/** Runs `job` holding the lock of `folder` (trailing slashes ignored), released after it. */
export async function withRunFolderLock<T>(
  folder: string,
  what: string,
  job: () => Promise<T>,
): Promise<T> {
  const lock = lockRunFolder(folder.replace(/\/+$/, "") || ".", what);
  try {
    return await job();
  } finally {
    lock.release();
  }
}

/**
 * {@link lockRunFolder}, or null (after about a second) when another process writes the folder:
 * for a reader that also leaves a file in the folder (sib's sib.json) and can do without it.
 */
export function tryLockRunFolder(folder: string, what: string): RunFolderLock | null {
  try {
    return lockRunFolder(folder, what);
  } catch (e) {
    if (e instanceof RunFolderBusyError) return null;
    throw e;
  }
}

/**
 * The lock file, open and flock-ed exclusively. Throws {@link RunFolderBusyError} when another
 * process holds it.
 */
function flockFile(folder: string, key: string, lockFile: string): Deno.FsFile {
  for (let attempt = 0;; attempt++) {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(lockFile, { read: true, write: true, create: true });
    } catch (e) {
      // the folder went with a writer that gave up the empty folder it had made
      if (!(e instanceof Deno.errors.NotFound) || attempt >= 3) throw e;
      Deno.mkdirSync(key, { recursive: true });
      continue;
    }
    // a reader's probe holds it for an instant, as does a writer on its way out: retry for a
    // second before naming the owner
    let got = tryFlock(file);
    for (let i = 0; got !== true && i < 40; i++) {
      sleepMs(25);
      got = tryFlock(file);
    }
    if (got !== true) {
      file.close();
      throw new RunFolderBusyError(folder, readOwner(lockFile));
    }
    // the file locked is still the one at the path (a writer that gave up an empty folder it
    // had made removes the file before it lets go): else lock the new one
    if (sameFile(lockFile, file)) return file;
    file.close();
  }
}

function sameFile(path: string, file: Deno.FsFile): boolean {
  try {
    return Deno.statSync(path).ino === file.statSync().ino;
  } catch {
    return false;
  }
}

function isFolder(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function handle(folder: string, key: string): RunFolderLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const h = held.get(key);
    if (!h || --h.count > 0) return;
    held.delete(key);
    // a folder this lock made and nothing else was written to (a start that failed early)
    // goes again, as if never made; removed while still locked
    if (h.created && onlyLockFile(key)) {
      try {
        Deno.removeSync(`${key}/${LOCK_FILE}`);
        Deno.removeSync(key);
      } catch {
        // something appeared meanwhile: keep it
      }
    }
    if (h.file) {
      try {
        h.file.truncateSync(0); // readers see no owner from here on
      } catch {
        // the folder was removed while held: nothing to tidy
      }
      h.file.close(); // drops the flock
    } else if (h.lockFile && JSON.stringify(readOwner(h.lockFile)) === JSON.stringify(h.owner)) {
      try {
        Deno.removeSync(h.lockFile); // still ours (never remove another's)
      } catch {
        // already gone
      }
    }
  };
  return { folder, release, [Symbol.dispose]: release };
}

function onlyLockFile(folder: string): boolean {
  try {
    const names = [...Deno.readDirSync(folder)].map((e) => e.name);
    return names.length === 1 && names[0] === LOCK_FILE;
  } catch {
    return false;
  }
}

/**
 * Who writes run folder `folder` now, or null when nobody does (or it is no folder). Never
 * blocks and takes no lock a writer could notice for longer than an instant.
 */
export function runFolderWriter(folder: string): LockOwner | null {
  const key = realFolder(folder);
  if (held.has(key)) {
    return { pid: Deno.pid, host: hostName(), since: new Date().toISOString(), what: "" };
  }
  const lockFile = `${key}/${LOCK_FILE}`;
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(lockFile, { read: true });
  } catch {
    return null; // no lock file: never written under a lock, or not a folder
  }
  try {
    if (useFlock()) {
      let free: boolean | null = null;
      try {
        free = file.tryLockSync(false);
      } catch {
        free = null; // no file locks here
      }
      if (free === true) return null;
      if (free === false) {
        return readOwner(lockFile) ??
          { pid: 0, host: hostName(), since: new Date().toISOString(), what: "" };
      }
    }
    const owner = readOwner(lockFile);
    return ownerLive(owner) ? owner : null;
  } finally {
    file.close();
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
