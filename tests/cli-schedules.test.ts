/**
 * `un schedules add`'s body from its arguments (`cli/schedules.ts`): the
 * positionals, the flags over `--json`, and the usage errors. The commands
 * against a running instance are in schedules-api.test.ts.
 */

import assert from "node:assert/strict";
import { addScheduleBody } from "../cli/schedules.ts";
import { UsageError } from "../cli/errors.ts";

Deno.test("un schedules add: positionals and flags make the body", () => {
  assert.deepEqual(
    addScheduleBody([
      "nightly",
      "report",
      "--cron",
      "0 3 * * *",
      "--payload",
      '{"full":true}',
      "--priority",
      "7",
      "--catch-up",
      "all",
      "--catch-up-max",
      "5",
    ]),
    {
      id: "nightly",
      task: "report",
      cron: "0 3 * * *",
      payload: { full: true },
      priority: 7,
      catchUp: "all",
      catchUpMax: 5,
    },
  );
  assert.deepEqual(
    addScheduleBody(["--json", '{"id":"b","task":"noop","every":"1h"}', "--every", "30s"]),
    { id: "b", task: "noop", every: "30s" },
  );
});

Deno.test("un schedules add: a missing id or task, or a bad number, is a usage error", () => {
  assert.throws(() => addScheduleBody(["only-id"]), UsageError);
  assert.throws(() => addScheduleBody(["a", "b", "c"]), UsageError);
  assert.throws(() => addScheduleBody(["a", "noop", "--priority", "12"]), UsageError);
});
