/**
 * The principal of a TLS client certificate, as Kafka's DefaultKafkaPrincipalBuilder builds it:
 * the subject's distinguished name in RFC 2253 form (what Java's X500Principal.getName() gives:
 * most specific attribute first, `CN=alice,O=Example,C=US`), mapped by
 * `ssl.principal.mapping.rules` (Kafka's SslPrincipalMapper), as `User:<name>`.
 */
import { X509Certificate } from "node:crypto";
import { ConfigError } from "../config.ts";

interface Rule {
  /** null: DEFAULT (the name as it is). */
  pattern: RegExp | null;
  replacement: string;
  toCase: "" | "L" | "U";
}

/** A name matched by no rule: Kafka fails the authentication. */
export class NoMatchingRule extends Error {}

/**
 * `ssl.principal.mapping.rules`: `DEFAULT` or `RULE:pattern/replacement/[LU]`, comma-separated,
 * tried in order; the first whose pattern matches the whole name maps it.
 */
export class SslPrincipalMapper {
  private readonly rules: Rule[];

  constructor(rules: string) {
    this.rules = parseRules(rules);
  }

  /** The short name of distinguished name `dn`; throws NoMatchingRule. */
  map(dn: string): string {
    for (const r of this.rules) {
      if (!r.pattern) return dn;
      const whole = new RegExp(`^(?:${r.pattern.source})$`);
      if (!whole.test(dn)) continue;
      const out = dn.replace(r.pattern, r.replacement);
      return r.toCase === "L" ? out.toLowerCase() : r.toCase === "U" ? out.toUpperCase() : out;
    }
    throw new NoMatchingRule(`no ssl.principal.mapping.rules rule matches '${dn}'`);
  }
}

/** Kafka's SslPrincipalMapper.RULE_PARSER, with JavaScript's regular expressions. */
const RULE = /^\s*(?:RULE:((?:\\.|[^\\/])*)\/((?:\\.|[^\\/])*)\/([LU]?)|(DEFAULT))\s*(?:,|$)/;

function parseRules(text: string): Rule[] {
  const rules: Rule[] = [];
  let rest = text.trim();
  while (rest.length > 0) {
    const m = RULE.exec(rest);
    if (!m) {
      throw new ConfigError(
        "ssl.principal.mapping.rules",
        `invalid rule at '${rest}' (expected DEFAULT or RULE:pattern/replacement/[LU])`,
      );
    }
    if (m[4]) rules.push({ pattern: null, replacement: "", toCase: "" });
    else {
      let pattern: RegExp;
      try {
        pattern = new RegExp(m[1], "g");
      } catch (e) {
        throw new ConfigError(
          "ssl.principal.mapping.rules",
          `invalid pattern '${m[1]}': ${e instanceof Error ? e.message : e}`,
        );
      }
      rules.push({ pattern, replacement: m[2], toCase: m[3] as Rule["toCase"] });
    }
    rest = rest.slice(m[0].length).trim();
  }
  if (rules.length === 0) rules.push({ pattern: null, replacement: "", toCase: "" });
  return rules;
}

/** RFC 2253 escaping of one attribute value. */
function escapeValue(v: string): string {
  let out = v.replace(/[\\,+"<>;]/g, (c) => `\\${c}`);
  if (out.startsWith("#") || out.startsWith(" ")) out = `\\${out}`;
  if (out.endsWith(" ") && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/**
 * The subject of DER certificate `der` in RFC 2253 form: the attributes in reverse of their
 * order in the certificate, comma-separated, values escaped.
 */
export function subjectName(der: Uint8Array): string {
  const subject = new X509Certificate(der).subject;
  const parts = subject.split("\n").filter((s) => s !== "").map((rdn) => {
    const eq = rdn.indexOf("=");
    return `${rdn.slice(0, eq)}=${escapeValue(rdn.slice(eq + 1))}`;
  });
  return parts.reverse().join(",");
}
