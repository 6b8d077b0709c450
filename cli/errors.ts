/**
 * The CLI's outcomes besides success, each with its exit code: bad usage and
 * an unreachable instance exit 2 with one line on stderr; an error answer from
 * the server exits 1.
 */

import { errorText } from "../lib/errors.ts";

/**
 * The command line is wrong (unknown flag, bad value): exit 2.
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * No `un` answers at the URL: exit 2.
 */
export class UnreachableError extends Error {
  override name = "UnreachableError";
  constructor(readonly url: string, readonly reason: string) {
    super(`cannot reach ${url} (${reason}); is \`un start\` running? set UN_URL`);
  }
}

/**
 * The server answered with an error body: exit 1.
 */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * The exit code and the one stderr line for an error a command threw.
 */
export function describeFailure(err: unknown): { code: number; line: string } {
  if (err instanceof UsageError || err instanceof UnreachableError) {
    return { code: 2, line: `un: ${err.message}` };
  }
  if (err instanceof ApiError) {
    return { code: 1, line: `un: ${err.message} (${err.status} ${err.code})` };
  }
  return { code: 1, line: `un: ${errorText(err)}` };
}
