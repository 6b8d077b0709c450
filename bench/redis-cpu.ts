/**
 * CPU time of other processes (Linux `/proc`), so the Redis benchmarks can say
 * what a task costs in the worker processes and in Redis, not only how fast it
 * went on a machine other people share.
 */

/** USER_HZ: clock ticks per second in `/proc/<pid>/stat`; 100 on every Linux we run. */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) a process has used so far; NaN when it is gone
 * or `/proc` is not there.
 *
 * @example
 * ```ts
 * const before = await processCpuSeconds(1234);
 * ```
 */
export async function processCpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/**
 * The summed CPU seconds of several processes.
 *
 * @example
 * ```ts
 * const cpu = await totalCpuSeconds([1234, 1235]);
 * ```
 */
export async function totalCpuSeconds(pids: readonly number[]): Promise<number> {
  const each = await Promise.all(pids.map(processCpuSeconds));
  return each.reduce((sum, s) => sum + s, 0);
}
