/**
 * A one-line progress bar on a terminal (redrawn in place); silent when stderr is not a TTY,
 * where callers print plain per-epoch lines instead.
 *
 * @module
 */

const encoder = new TextEncoder();

/** A progress line on stderr. */
export class ProgressLine {
  #tty = Deno.stderr.isTerminal();
  #last = 0;
  #shown = false;

  /** Redraws the line (at most 10 times a second, and always at 100%). */
  update(text: string, fraction: number): void {
    if (!this.#tty) return;
    const now = performance.now();
    if (now - this.#last < 100 && fraction < 1) return;
    this.#last = now;
    const width = 24;
    const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const columns = Deno.consoleSize?.().columns ?? 120;
    Deno.stderr.writeSync(encoder.encode(`\r\x1b[K[${bar}] ${text}`.slice(0, columns + 4)));
    this.#shown = true;
  }

  /** Ends the line so normal output can follow. */
  done(): void {
    if (this.#shown) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    this.#shown = false;
  }
}
