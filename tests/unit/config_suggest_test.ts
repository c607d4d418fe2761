import assert from "node:assert/strict";
import { editDistance, suggestConfigName, unknownConfigWarning } from "../../src/config_suggest.ts";

Deno.test("editDistance: insertions, deletions, substitutions", () => {
  assert.equal(editDistance("num.partition", "num.partitions"), 1);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("same", "same"), 0);
});

Deno.test("suggestConfigName: close slips get the known broker or topic name", () => {
  assert.equal(suggestConfigName("num.partition"), "num.partitions");
  assert.equal(suggestConfigName("log.retention.hour"), "log.retention.hours");
  assert.equal(suggestConfigName("cleanup.polcy"), "cleanup.policy");
  assert.equal(suggestConfigName("Auto.Create.Topics.Enable"), "auto.create.topics.enable");
  // Nothing close: no suggestion.
  assert.equal(suggestConfigName("my.custom.thing.xyz"), undefined);
  assert.equal(suggestConfigName("abc"), undefined);
});

Deno.test("unknownConfigWarning names the key and the suggestion", () => {
  assert.equal(
    unknownConfigWarning("num.partition"),
    "unknown config 'num.partition' ignored (did you mean num.partitions?)",
  );
  assert.equal(unknownConfigWarning("zzzzzzzz"), "unknown config 'zzzzzzzz' ignored");
});
