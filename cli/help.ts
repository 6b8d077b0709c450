/**
 * `un help`: what each command does.
 */

/**
 * The usage text.
 */
export const USAGE =
  `un: a reflex runtime (watch sources, prioritise work, run it on supervised workers)

usage: un <command> [options]

  start [--config FILE] [--role all|api|worker|scanner]
                      run the runtime and its HTTP API in the foreground
  tasks [--state S] [--queue Q] [--type T] [--key K] [--correlation C] [--subject S]
        [--created-after T] [--created-before T] [--limit N] [--all] [--json]
                      list tasks, newest first, a page at a time (--all: every page)
  tasks <id> [--json] show one task: payload, result, error, why it sorts where it does
  tasks clear|retry|cancel|reprioritize [the filters of tasks] [--priority P] [--limit N]
        [--dry-run] [--json]
                      act on every task the filters match (at least one); --dry-run counts only
  events [--type PATTERN] [--limit N] [--follow] [--json]
                      recent events (PATTERN: file.*, task.**); --follow streams new ones
  workers [--scale N] [--json]
                      the worker pool; --scale sets its concurrency
  queues [--json]     tasks per queue and state; which queues are paused or rate limited
  queues pause|resume <name>
                      stop or restart claims from a queue (running tasks finish)
  processes [--json]  every process on the store (with Redis, the cluster): role, pool, last heard
  publish <type> [--data JSON] [--subject S] [--priority critical|high|normal|low] [--json]
                      publish an event
  enqueue <type> [--payload JSON] [--priority 0-9] [--queue Q] [--delay MS] [--key K] [--wait] [--json]
                      create a task; --wait shows its progress and exits 0 only if it succeeds
  retry <id>          put a failed, dead, cancelled or expired task back in the queue
  cancel <id>         cancel a task that has not finished
  why <id> [--json]   why a task waits: place in line, sort key in words, what holds it, when it may start
  batches [--state open|completed] [--limit N] [--cursor C] [--json]
                      the batches, newest first: tasks, states, progress, created, completed
  batches <id> [--wait] [--json]
                      one batch (or a task's children: its id): tasks per state, progress, done or not;
                      --wait follows it with a progress bar until every task ended (exit 1 unless all succeeded)
  sources [--json]    list sources: kind, enabled, origin, last scan, last error
  sources add <kind> [--id ID] [--url U] [--path P] [--repo OWNER/NAME] [--interval D] ...
  sources add --json '{"kind":"feed","url":"..."}'
                      add a source at run time (it scans at once and survives restarts)
  sources update <id> [--interval D] ... | sources update <id> --json '{"interval":"30s"}'
                      change a source in place, checked as an add is (null resets a key)
  sources rm|enable|disable <id>
                      remove a source, or switch it off or on
  sources process <id> <path>
                      publish one file.modified for a file of an fs source, changed or not
  hooks [--json]      list hooks: the config file's (read-only) and those added at run time
  hooks add <on> <task> [--where CEL] [--every N] [--priority P] [--queue Q] [--key K]
        [--disabled] | hooks add --json '{"on":"file.*","task":"embed"}'
                      add a hook at run time (applies to the next event, in every process)
  hooks update <id> [the flags of add] | hooks update <id> --json '{...}'
  hooks delete|enable|disable <id>
                      change, remove, or switch off or on a run-time hook
  subscriptions [--json]
                      list webhook subscriptions (deliveries: GET /un/subscriptions/:id/deliveries)
  subscriptions add <pattern> <url> [--where CEL] [--ordered] [--max-attempts N]
                      POST matching events to a URL, signed (the secret is printed once)
  subscriptions update <id> [--url U] [--pattern P] [--where CEL] [--ordered|--unordered] ...
                      change a webhook subscription (checked as an add is)
  subscriptions enable|disable|delete <id>
                      switch a subscription on (its failures cleared) or off, or remove it
  schedules [--json]  list schedules: next fire, last run and its task, paused or not
  schedules add <id> <task> (--cron EXPR | --every 30s) [--catch-up none|one|all] [--payload JSON]
        [--catch-up-max N] [--queue Q] [--priority P] [--timezone TZ] | schedules add --json '{...}'
                      add a schedule at run time (fires in one process per occurrence)
  schedules delete|pause|resume|trigger <id>
                      remove, pause, resume (config ones too), or fire a schedule now
  scan [id] [--json]  scan one source (or every enabled one) now; limited per source
  stop                stop the instance gracefully
  doctor [--config FILE] [--json]
                      check the configured store: Redis persistence (AOF/RDB), maxmemory and
                      its eviction policy (WARN lines exit 0, ERROR lines exit 1); embedded:
                      path, size and lock holder
  store check [--config FILE] [--quick] [--json]
                      check the embedded store file (exit 0 sound, 1 damaged); safe beside a running un
  store recover [--config FILE] [--json]
                      copy what is readable of a damaged store into a fresh one, keeping the
                      damaged file as un.db.damaged-<time> (refused while un runs on the store)
  store ack-reset [--json]
                      acknowledge that Redis lost its data, for every process of the
                      cluster (their /health is degraded until then)
  open [PAGE] [--browser] [--json]
                      print the address of the inspector for a browser (with UN_TOKEN,
                      a one-time login link, valid two minutes)
  help                this text

environment: UN_URL (default http://127.0.0.1:4242), UN_TOKEN (bearer token), UN_CONFIG
exit codes: 0 ok, 1 the server answered an error, 2 bad usage or no instance reachable`;

/**
 * Prints the usage text.
 */
export function helpCommand(): Promise<number> {
  console.log(USAGE);
  return Promise.resolve(0);
}
