/**
 * A one-line progress bar on a terminal (redrawn in place). When stderr is not a TTY (a log
 * file, a pipe) it is silent where callers print plain per-epoch lines instead, or, for commands
 * with no such lines (sib, faith: many minutes of scoring), prints the line as plain text every
 * `plainEvery` milliseconds, so a log shows the work going on. A line given as fields fits the
 * terminal by dropping the least important fields first, never by cutting one.
 *
 * @module
 */

const encoder = new TextEncoder();

/** One part of a progress line. */
export interface ProgressField {
  /** The text. */
  text: string;
  /** Importance: fields with larger values are dropped first when the line is too long. */
  drop: number;
}

/**
 * The fields that fit in `width` characters (joined by spaces), in their order; the least
 * important (largest `drop`) go first.
 */
export function fitFields(fields: readonly ProgressField[], width: number): string {
  const kept = [...fields];
  const length = () => kept.reduce((n, f) => n + f.text.length, 0) + kept.length - 1;
  while (kept.length > 1 && length() > width) {
    const worst = kept.reduce((a, b) => (b.drop > a.drop ? b : a));
    kept.splice(kept.indexOf(worst), 1);
  }
  return kept.map((f) => f.text).join(" ").slice(0, width);
}

/** Seconds as "42s", "12m05s" or "4h32m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** How often sib and faith print their progress into a log (off a terminal): once a minute. */
export const SCORING_LOG_EVERY_MS = 60_000;

/** Options of a {@link ProgressLine}. */
export interface ProgressLineOptions {
  /**
   * Off a terminal: print the line as plain text at most this often (ms), the first after this
   * long; default: print nothing.
   */
  plainEvery?: number;
  /** Whether stderr is a terminal (default: asked of Deno.stderr; tests set it). */
  tty?: boolean;
}

/** A progress line on stderr. */
export class ProgressLine {
  #tty: boolean;
  #plainEvery: number | null;
  #last = 0;
  #lastPlain = performance.now();
  #shown = false;

  /** A line drawn on stderr; see {@link ProgressLineOptions} for what it does off a terminal. */
  constructor(options: ProgressLineOptions = {}) {
    this.#tty = options.tty ?? Deno.stderr.isTerminal();
    this.#plainEvery = options.plainEvery ?? null;
  }

  /** Redraws the line (at most 10 times a second, and always at 100%). */
  update(text: string | readonly ProgressField[], fraction: number): void {
    if (!this.#tty) return this.#plain(text, fraction);
    const now = performance.now();
    if (now - this.#last < 100 && fraction < 1) return;
    this.#last = now;
    const columns = Deno.consoleSize?.().columns ?? 120;
    const width = columns >= 100 ? 24 : 10;
    const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
    const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] `;
    const room = columns - bar.length - 1; // the last column would wrap on some terminals
    const body = typeof text === "string" ? text.slice(0, room) : fitFields(text, room);
    Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${bar}${body}`));
    this.#shown = true;
  }

  /** Off a terminal: the line as one plain line with its percentage, when one is due. */
  #plain(text: string | readonly ProgressField[], fraction: number): void {
    const now = performance.now();
    if (this.#plainEvery === null || now - this.#lastPlain < this.#plainEvery) return;
    this.#lastPlain = now;
    const body = typeof text === "string" ? text : text.map((f) => f.text).join(" ");
    const percent = Math.round(100 * Math.max(0, Math.min(1, fraction)));
    Deno.stderr.writeSync(encoder.encode(`${body} (${percent}%)\n`));
  }

  /** Ends the line so normal output can follow. */
  done(): void {
    if (this.#shown) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    this.#shown = false;
  }
}
