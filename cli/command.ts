/** A subcommand of `un`: its arguments in, its exit code out. */
export type Command = (args: string[]) => Promise<number>;
