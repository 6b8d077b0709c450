/**
 * A small tmpfs for disk-full tests (Linux, as root). Where mounting is not
 * possible the tests are ignored with the reason in their name.
 */

/**
 * Mounts a tmpfs of `size` (e.g. "2m") at a new temp dir, or says why it cannot.
 *
 * @example
 * ```ts
 * const mounted = await mountTmpfs("2m");
 * if ("dir" in mounted) try { ... } finally { await unmountTmpfs(mounted.dir); }
 * ```
 */
export async function mountTmpfs(size: string): Promise<{ dir: string } | { skip: string }> {
  if (Deno.build.os !== "linux") return { skip: "tmpfs mounts need Linux" };
  const dir = await Deno.makeTempDir({ prefix: "un_tmpfs_" });
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stdout: "null",
    stderr: "piped",
  }).output().catch((err) => ({ success: false, stderr: new TextEncoder().encode(String(err)) }));
  if (!out.success) {
    await Deno.remove(dir);
    return { skip: `cannot mount a tmpfs: ${new TextDecoder().decode(out.stderr).trim()}` };
  }
  return { dir };
}

/**
 * Unmounts (lazily, so a process still holding files there cannot block it) and removes the dir.
 *
 * @example
 * ```ts
 * await unmountTmpfs(dir);
 * ```
 */
export async function unmountTmpfs(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: ["-l", dir], stdout: "null", stderr: "null" }).output();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/**
 * Why disk-full tests cannot run here, or null when they can (mounts and unmounts a probe).
 *
 * @example
 * ```ts
 * const skip = await tmpfsSkipReason();
 * Deno.test({ name: skip ? `disk full (ignored: ${skip})` : "disk full", ignore: skip !== null, fn });
 * ```
 */
export async function tmpfsSkipReason(): Promise<string | null> {
  const probe = await mountTmpfs("1m");
  if ("skip" in probe) return probe.skip;
  await unmountTmpfs(probe.dir);
  return null;
}

/**
 * Fills the file system holding `path` with one file until it refuses.
 *
 * @example
 * ```ts
 * await fill(join(dir, "filler"));
 * ```
 */
export async function fill(path: string): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true });
  for (const size of [65_536, 4_096, 512]) {
    const chunk = new Uint8Array(size);
    try {
      for (;;) await file.write(chunk);
    } catch (err) {
      if (!/No space left|os error 28/i.test(String(err))) throw err;
    }
  }
}
