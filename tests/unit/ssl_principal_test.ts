import assert from "node:assert/strict";
import { ConfigError } from "../../src/config.ts";
import { NoMatchingRule, SslPrincipalMapper } from "../../src/security/ssl_principal.ts";

// The cases of Kafka's SslPrincipalMapperTest.
const RULES = [
  "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
  "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L",
  "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
  "DEFAULT",
].join(",");

Deno.test("ssl principal: DEFAULT keeps the distinguished name", () => {
  const m = new SslPrincipalMapper("DEFAULT");
  assert.equal(m.map("CN=alice,O=Example,C=US"), "CN=alice,O=Example,C=US");
  assert.equal(new SslPrincipalMapper("").map("CN=x"), "CN=x");
});

Deno.test("ssl principal: the first rule matching the whole name maps it", () => {
  const m = new SslPrincipalMapper(RULES);
  assert.equal(m.map("CN=kafka1,OU=ServiceUsers,O=Org,C=US"), "kafka1");
  assert.equal(
    m.map("CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Santa Clara,ST=CA,C=US"),
    "duke@javasoft",
  );
  assert.equal(m.map("CN=Duke,OU=JavaSoft,O=Sun Microsystems"), "duke");
  assert.equal(m.map("OU=JavaSoft,O=Sun Microsystems,C=US"), "OU=JavaSoft,O=Sun Microsystems,C=US");
  assert.equal(new SslPrincipalMapper("RULE:^cn=(.*?),.*$/$1/U").map("cn=bob,o=x"), "BOB");
});

Deno.test("ssl principal: no rule matching is an authentication failure", () => {
  const m = new SslPrincipalMapper("RULE:^CN=(.*?),OU=Ops$/$1/");
  assert.throws(() => m.map("CN=x,OU=Dev"), NoMatchingRule);
});

Deno.test("ssl principal: malformed rules are a config error", () => {
  for (const bad of ["RULE:^CN=(.*)$/$1", "DEFAULTS", "RULE:[/x/", "RULE:^CN=(.*)$/$1/X"]) {
    assert.throws(() => new SslPrincipalMapper(bad), ConfigError, bad);
  }
});
