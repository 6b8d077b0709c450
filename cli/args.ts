/**
 * Argument parsing for the client commands: `node:util` parseArgs in strict
 * mode, with every mistake turned into a UsageError (exit 2, one line) that
 * names the flag, the value and what is allowed.
 */

import type { Json } from "../lib/events/cloud-event.ts";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.ts";

/**
 * Option definitions as parseArgs takes them.
 */
export type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses argv strictly.
 */
export function parse<O extends Options>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    // parseArgs' messages are long and mention "strict:true"; keep the first sentence.
    const message = (err as Error).message.split(/\. |\n/)[0].replace(
      /^Unknown option/,
      "unknown option",
    );
    throw new UsageError(`${message}; usage: ${usage}`);
  }
}

/**
 * Reads an integer flag, or undefined when absent.
 */
export function intFlag(
  value: unknown,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * Reads a JSON flag (`--data '{"a":1}'`), or undefined when absent.
 */
export function jsonFlag(value: unknown, flag: string): Json | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(String(value));
  } catch (err) {
    throw new UsageError(
      `${flag} must be JSON (e.g. '{"path":"a.txt"}'): ${(err as Error).message}`,
    );
  }
}

/**
 * Reads a flag that must be one of a list.
 */
export function oneOfFlag<T extends string>(
  value: unknown,
  flag: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) {
    throw new UsageError(
      `${flag} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

/**
 * Exactly `count` positional arguments, or a UsageError naming the usage.
 */
export function positionals(given: string[], count: number, usage: string): string[] {
  if (given.length !== count) {
    const what = given.length < count
      ? "missing argument"
      : `unexpected argument ${JSON.stringify(given[count])}`;
    throw new UsageError(`${what}; usage: ${usage}`);
  }
  return given;
}
