/**
 * A one-line progress bar on a terminal (redrawn in place); silent when stderr is not a TTY,
 * where callers print plain per-epoch lines instead. A line given as fields fits the terminal
 * by dropping the least important fields first, never by cutting one.
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

/** A progress line on stderr. */
export class ProgressLine {
  #tty = Deno.stderr.isTerminal();
  #last = 0;
  #shown = false;

  /** Redraws the line (at most 10 times a second, and always at 100%). */
  update(text: string | readonly ProgressField[], fraction: number): void {
    if (!this.#tty) return;
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

  /** Ends the line so normal output can follow. */
  done(): void {
    if (this.#shown) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    this.#shown = false;
  }
}
