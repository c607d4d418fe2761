/**
 * parseProperties reads `server.properties` as `java.util.Properties.load` does, so a file
 * Kafka accepts means the same here. Every expected map below is what OpenJDK 17's
 * `Properties.load` gives for the same text.
 */
import assert from "node:assert/strict";
import { BrokerConfig, parseProperties } from "../../src/config.ts";

function parsed(text: string): Record<string, string> {
  return Object.fromEntries(parseProperties(text));
}

Deno.test("properties: separators are =, : or blanks; blanks around them are skipped", () => {
  assert.deepEqual(parsed("a=1\nb:2\nc 3\nd\t=\t4\n  e = 5  \nf\n"), {
    a: "1",
    b: "2",
    c: "3",
    d: "4",
    e: "5  ", // trailing blanks belong to the value
    f: "",
  });
  assert.deepEqual(parsed("k==v\nk2 = :v\nk3 := v\nk4 v w\n"), {
    k: "=v",
    k2: ":v",
    k3: "= v",
    k4: "v w",
  });
  assert.deepEqual(parsed("=v\n:w\n"), { "": "w" });
  assert.deepEqual(parsed("k=1\nk=2\n"), { k: "2" });
});

Deno.test("properties: # and ! comments, also indented", () => {
  assert.deepEqual(parsed("# c\n! c\n  # indented\nk=v\n"), { k: "v" });
});

Deno.test("properties: a comment ending in a backslash does not continue", () => {
  assert.deepEqual(parsed("# comment ending in \\\nkey=value\n! also \\\nk2=v2\n"), {
    key: "value",
    k2: "v2",
  });
});

Deno.test("properties: continuation lines lose their leading blanks", () => {
  assert.deepEqual(parsed("list=a,\\\n    b,\\\n\tc\n"), { list: "a,b,c" });
  // A continued line starting with # is not a comment; an empty one ends the value.
  assert.deepEqual(parsed("a=1\\\n# not a comment\nb=2\n"), { a: "1# not a comment", b: "2" });
  assert.deepEqual(parsed("a=1\\\n\nb=2\n"), { a: "1", b: "2" });
  assert.deepEqual(parsed("\\\nk=v\n\\\n\n"), { k: "v" });
  assert.deepEqual(parsed("k=v\\"), { k: "v" });
});

Deno.test("properties: an even number of backslashes at the end does not continue", () => {
  assert.deepEqual(parsed("path=C:\\\\\nnext=1\n"), { path: "C:\\", next: "1" });
  assert.deepEqual(parsed("x=a\\\\\\\n  b\n"), { x: "a\\b" });
});

Deno.test("properties: escapes in keys and values", () => {
  assert.deepEqual(parsed("a\\:b=1\nc\\=d=2\ne\\ f=3\ng=\\t\\n\\r\\f\\x\\\\\n"), {
    "a:b": "1",
    "c=d": "2",
    "e f": "3",
    g: "\t\n\r\fx\\",
  });
});

Deno.test("properties: \\uXXXX, and a malformed one is an error", () => {
  assert.deepEqual(parsed("u=\\u00e9\\u0041\nk\\u0041=v\n"), { u: "éA", kA: "v" });
  assert.throws(() => parseProperties("k=\\u12\n"), /Malformed \\uxxxx encoding/);
});

Deno.test("properties: \\n, \\r and \\r\\n all end lines", () => {
  assert.deepEqual(parsed("a=1\r\nb=2\\\r\n  3\rc=4\r\n"), { a: "1", b: "23", c: "4" });
});

Deno.test("properties: trailing blanks of a value reach the setting, which Kafka trims", () => {
  const c = new BrokerConfig(
    parseProperties("log.retention.hours = 5  \nssl.key.password=s3cret \n"),
  );
  assert.equal(c.get("log.retention.hours"), 5);
  assert.equal(c.get("ssl.key.password"), "s3cret");
});
