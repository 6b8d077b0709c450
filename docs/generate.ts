/**
 * Writes `docs/configuration.md` from the configuration schema
 * (`lib/config/schema.ts`: types, defaults, ranges and `.describe()` texts),
 * the `UN_*` mapping (`lib/config/env.ts`) and the prose around the tables
 * (`docs/templates/configuration.md`). Run it with `deno task docs`;
 * `tests/docs.test.ts` fails when the committed file differs from what this
 * renders, so the reference cannot drift from the schema.
 */

import { z } from "zod";
import { configSchema } from "../lib/config/schema.ts";
import { ENV_PATHS } from "../lib/config/env.ts";

/** The part of a JSON Schema node this page reads. */
interface Node {
  type?: string | string[];
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  pattern?: string;
  format?: string;
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  oneOf?: Node[];
  additionalProperties?: Node | boolean;
  /** Set by `duration()` in lib/config/fields.ts: the transform hides the range. */
  durationMs?: { min: number; max: number };
}

const TEMPLATE = new URL("./templates/configuration.md", import.meta.url);
const OUTPUT = new URL("./configuration.md", import.meta.url);
const ROOT = new URL("../", import.meta.url);

const ENV_BY_KEY = new Map([...ENV_PATHS].map(([name, path]) => [path.join("."), name]));

const UNITS: [number, string][] = [
  [86_400_000, "d"],
  [3_600_000, "h"],
  [60_000, "min"],
  [1_000, "s"],
];

/** 604800000 → "7 d": the largest unit that divides it. */
function humanMs(ms: number): string {
  for (const [size, unit] of UNITS) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  }
  return `${ms} ms`;
}

/** 1048576 → "1 MiB". */
function humanBytes(bytes: number): string {
  for (const [size, unit] of [[1024 ** 3, "GiB"], [1024 ** 2, "MiB"], [1024, "KiB"]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} B`;
}

/** 100000000 → "100,000,000". */
const count = (n: number) => n.toLocaleString("en-US");

const code = (value: unknown) => "`" + JSON.stringify(value) + "`";

/** What a key's values are, given its name (`…Ms` keys are milliseconds, `…Bytes` bytes). */
function typeOf(key: string, node: Node): string {
  if (node.durationMs) return "duration";
  if (node.const !== undefined) return typeof node.const;
  if (node.type === "array") return `array of ${node.items ? typeOf("", node.items) : "any"}`;
  if (node.type === "object" && node.additionalProperties) {
    const values = node.additionalProperties;
    return values === true || Object.keys(values).length === 0
      ? "object"
      : `object of ${typeOf("", values)}`;
  }
  if (node.oneOf) return "object (by `kind`)";
  if (node.type === "integer" && key.endsWith("Ms")) return "integer (ms)";
  if (node.type === "integer" && key.endsWith("Bytes")) return "integer (bytes)";
  return Array.isArray(node.type) ? node.type.join(" or ") : node.type ?? "any";
}

/** The values a key takes: a range, the allowed strings, a length, a format. */
function allowedOf(key: string, node: Node): string {
  if (node.durationMs) {
    const { min, max } = node.durationMs;
    return `${humanMs(min)}..${humanMs(max)}`;
  }
  if (node.const !== undefined) return code(node.const);
  if (node.enum) return node.enum.map(code).join(", ");
  const parts: string[] = [];
  if (node.minimum !== undefined && node.maximum !== undefined) {
    const human = key.endsWith("Ms") ? humanMs : key.endsWith("Bytes") ? humanBytes : count;
    parts.push(`${human(node.minimum)}..${human(node.maximum)}`);
  } else if (node.minimum !== undefined) parts.push(`≥ ${count(node.minimum)}`);
  if (node.format === "uri") parts.push("a URL");
  if (node.pattern) parts.push("`" + node.pattern + "`");
  if (node.minLength !== undefined && node.maxLength !== undefined) {
    parts.push(`${node.minLength}..${node.maxLength} characters`);
  } else if (node.minLength !== undefined && node.minLength > 1) {
    parts.push(`at least ${node.minLength} characters`);
  }
  if (node.minItems) parts.push(`at least ${node.minItems} item${node.minItems > 1 ? "s" : ""}`);
  if (node.type === "array" && node.items) {
    const items = allowedOf("", node.items);
    if (items) parts.push(`each ${items}`);
  }
  return parts.join("; ");
}

function defaultOf(key: string, node: Node, required: boolean): string {
  if (node.default === undefined) return required ? "required" : "—";
  const value = node.default;
  if (typeof value === "number" && value >= 1_000) {
    if (key.endsWith("Ms")) return `${code(value)} (${humanMs(value)})`;
    if (key.endsWith("Bytes")) return `${code(value)} (${humanBytes(value)})`;
  }
  return code(value);
}

/** A table cell: pipes escaped, so a `a|b` in a description does not split the row. */
const cell = (text: string) => (text || "—").replaceAll("|", "\\|").replaceAll("\n", " ");

interface Row {
  key: string;
  node: Node;
  required: boolean;
}

/** The leaves under an object node, with dotted keys; nested objects are walked, not listed. */
function leaves(node: Node, prefix: string[] = []): Row[] {
  const rows: Row[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const path = [...prefix, name];
    if (child.type === "object" && child.properties) rows.push(...leaves(child, path));
    else rows.push({ key: path.join("."), node: child, required: !!node.required?.includes(name) });
  }
  return rows;
}

function table(rows: Row[], options: { env: boolean }): string {
  const head = [
    "key",
    "type",
    "default",
    "allowed",
    ...(options.env ? ["env"] : []),
    "description",
  ];
  const lines = [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`];
  for (const { key, node, required } of rows) {
    if (!node.description) {
      throw new Error(`config key ${key} has no description: add .describe() in the schema`);
    }
    const last = key.split(".").pop()!;
    const cells = [
      "`" + key + "`",
      typeOf(last, node),
      defaultOf(last, node, required),
      allowedOf(last, node),
      ...(options.env ? [ENV_BY_KEY.has(key) ? "`" + ENV_BY_KEY.get(key) + "`" : "—"] : []),
      node.description,
    ];
    lines.push(`| ${cells.map(cell).join(" | ")} |`);
  }
  return lines.join("\n");
}

/**
 * The defaults as the schema applies them: JSON Schema leaves out the
 * default of an array whose items transform (`sources`, `schedules`), and
 * this is the value a reader gets anyway.
 */
function withDefault(row: Row, defaults: Record<string, unknown>): Row {
  let value: unknown = defaults;
  for (const key of row.key.split(".")) value = (value as Record<string, unknown>)?.[key];
  return value === undefined ? row : { ...row, node: { ...row.node, default: value } };
}

/** The tables of the top-level keys: one per section (`api`, `workers`, …), loose keys first. */
function keysSection(root: Node): string {
  const defaults = configSchema.parse({}) as Record<string, unknown>;
  const loose: Row[] = [];
  const out: string[] = [];
  for (const [name, child] of Object.entries(root.properties ?? {})) {
    if (child.type === "object" && child.properties) {
      const rows = leaves(child, [name]).map((row) => withDefault(row, defaults));
      out.push(`### ${name}\n\n${table(rows, { env: true })}`);
    } else {
      const row = { key: name, node: child, required: !!root.required?.includes(name) };
      loose.push(withDefault(row, defaults));
    }
  }
  return [`### Top level\n\n${table(loose, { env: true })}`, ...out].join("\n\n");
}

/** The keys of one source, shared keys in their own table. */
function sourcesSection(sources: Node[]): string {
  const shared = Object.keys(sources[0].properties ?? {}).filter((key) =>
    sources.every((source) => key in (source.properties ?? {}))
  );
  const rowsOf = (source: Node, keep: (key: string) => boolean) =>
    leaves(source).filter((row) => row.key !== "kind" && keep(row.key));
  // Each kind's schema has `kind` as one literal; the shared table lists them all.
  const kinds = sources.map((source) => source.properties?.kind?.const);
  const kind: Row = {
    key: "kind",
    node: { type: "string", enum: kinds, description: "The kind of source; its own keys follow." },
    required: true,
  };
  const common = [kind, ...rowsOf(sources[0], (k) => shared.includes(k))];
  const out = [`### Every source\n\n${table(common, { env: false })}`];
  for (const source of sources) {
    const kind = source.properties?.kind?.const as string;
    out.push(
      `### ${kind} sources\n\n${table(rowsOf(source, (k) => !shared.includes(k)), { env: false })}`,
    );
  }
  return out.join("\n\n");
}

/** The keys tables, in the order the template's placeholders name them. */
function sections(): Record<string, string> {
  const root = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as Node;
  const props = root.properties!;
  const kindsNode = props.sources.items!;
  const schedules = props.scheduler.properties!.schedules.items!;
  const commands = props.exec.properties!.commands.additionalProperties as Node;
  return {
    keys: keysSection(root),
    sources: sourcesSection(kindsNode.oneOf!),
    hooks: table(leaves(props.hooks.items!), { env: false }),
    schedules: table(leaves(schedules), { env: false }),
    execCommands: table(leaves(commands), { env: false }),
    queues: table(leaves(props.queues.additionalProperties as Node), { env: false }),
  };
}

/** Runs `deno fmt` over markdown text, so the page is what `deno task check` accepts. */
async function formatMarkdown(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) throw new Error(`deno fmt failed: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

/**
 * The text `docs/configuration.md` should hold: the template with its
 * `{{name}}` placeholders replaced by the tables, formatted.
 */
export async function renderConfigurationDoc(): Promise<string> {
  const parts = sections();
  const template = await Deno.readTextFile(TEMPLATE);
  const text = template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in parts)) throw new Error(`templates/configuration.md: unknown {{${name}}}`);
    return parts[name];
  });
  return await formatMarkdown(text);
}

if (import.meta.main) {
  await Deno.writeTextFile(OUTPUT, await renderConfigurationDoc());
  console.log("wrote docs/configuration.md");
}
