/**
 * Errors the CLI maps to exit codes.
 *
 * @module
 */

/** A usage error: printed as one line, exit code 2. */
export class UsageError extends Error {}
