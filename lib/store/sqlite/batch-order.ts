/**
 * Orders a batch of new tasks so every task comes after the batch tasks it
 * depends on, and names the cycle when there is none such order. Pure: it
 * knows nothing about SQLite.
 */

import { CycleError } from "../../errors.ts";

/**
 * One new task of a batch, with its dependencies already resolved to ids.
 */
export interface BatchNode {
  id: string;
  /** How the cycle message names the task (its key when it has one, else its id). */
  name: string;
  /** Resolved dependency ids; ids outside the batch are ignored here. */
  dependsOn: string[];
}

/**
 * Dependencies first (depth-first post-order, which keeps input order where
 * nothing forces otherwise). Throws {@link CycleError} with the path, e.g.
 * `["a", "b", "a"]`, when the batch depends on itself.
 *
 * @example
 * ```ts
 * orderBatch([
 *   { id: "2", name: "b", dependsOn: ["1"] },
 *   { id: "1", name: "a", dependsOn: [] },
 * ]).map((n) => n.name); // ["a", "b"]
 * ```
 */
export function orderBatch<T extends BatchNode>(nodes: readonly T[]): T[] {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const done = new Set<string>();
  const ordered: T[] = [];
  // The current depth-first path, so a back edge can be reported as a cycle.
  const path: T[] = [];
  const onPath = new Set<string>();

  const visit = (node: T): void => {
    if (done.has(node.id)) return;
    if (onPath.has(node.id)) {
      const start = path.findIndex((entry) => entry.id === node.id);
      throw new CycleError([...path.slice(start), node].map((entry) => entry.name));
    }
    onPath.add(node.id);
    path.push(node);
    for (const dependencyId of node.dependsOn) {
      const dependency = byId.get(dependencyId);
      if (dependency !== undefined) visit(dependency);
    }
    path.pop();
    onPath.delete(node.id);
    done.add(node.id);
    ordered.push(node);
  };

  for (const node of nodes) visit(node);
  return ordered;
}
