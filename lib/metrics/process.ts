/**
 * The standard `process_*` metrics, read from Deno at scrape time.
 *
 * Not prom-client's `collectDefaultMetrics`: under Deno its `process_*`
 * values are right, but it also registers `nodejs_*` metrics that say nothing
 * true here (`nodejs_version_info` is the Node version Deno imitates, active
 * handles and requests are always 0, the GC histogram stays empty), starts an
 * event-loop monitor and a GC observer for every registry (we have one per
 * runtime), and counts CPU from its own registration rather than from the
 * process's start. These few are what an SRE alerts on.
 */

import process from "node:process";
import type { Registry } from "prom-client";
import type { Prom } from "./prom.ts";

/** Linux's `/proc`; elsewhere the metrics read from it are left out. */
const PROC = "/proc/self";

/**
 * Registers `process_cpu_*_seconds_total`, `process_resident_memory_bytes`,
 * `process_virtual_memory_bytes`, `process_start_time_seconds`,
 * `process_open_fds` and `process_max_fds` on a registry.
 */
export function registerProcessMetrics(registry: Registry, { Counter, Gauge }: Prom): void {
  const registers = [registry];
  // Counters, though read whole each time: reset then set to the process's total.
  const cpu = (name: string, help: string, read: (usage: NodeJS.CpuUsage) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read(process.cpuUsage()) / 1e6);
      },
    });
  cpu("process_cpu_user_seconds_total", "User CPU time spent in seconds", (u) => u.user);
  cpu("process_cpu_system_seconds_total", "System CPU time spent in seconds", (u) => u.system);
  cpu(
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds",
    (u) => u.user + u.system,
  );
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes",
    registers,
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds",
    registers,
  }).set(Math.round(performance.timeOrigin) / 1000);
  if (readProc("status") === null) return;
  new Gauge({
    name: "process_virtual_memory_bytes",
    help: "Virtual memory size in bytes",
    registers,
    collect() {
      const kb = /^VmSize:\s+(\d+) kB$/m.exec(readProc("status") ?? "")?.[1];
      if (kb) this.set(Number(kb) * 1024);
    },
  });
  new Gauge({
    name: "process_open_fds",
    help: "Number of open file descriptors",
    registers,
    collect() {
      try {
        let n = 0;
        for (const _ of Deno.readDirSync(`${PROC}/fd`)) n++;
        // Reading the directory held one descriptor of its own.
        this.set(Math.max(0, n - 1));
      } catch { /* not readable here: left as it was */ }
    },
  });
  new Gauge({
    name: "process_max_fds",
    help: "Maximum number of open file descriptors",
    registers,
    collect() {
      const max = /^Max open files\s+(\d+)/m.exec(readProc("limits") ?? "")?.[1];
      if (max) this.set(Number(max));
    },
  });
}

function readProc(file: string): string | null {
  try {
    return Deno.readTextFileSync(`${PROC}/${file}`);
  } catch {
    return null;
  }
}
