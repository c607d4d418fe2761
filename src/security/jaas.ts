/**
 * Kafka's `sasl.jaas.config` value: one JAAS login module entry,
 * `<class> <required|requisite|sufficient|optional> key="value" key2=value2;`. The broker reads
 * its options (PlainLoginModule's `user_<name>="<password>"`, OAuthBearerLoginModule's
 * `unsecuredValidator*`) as Kafka's JaasConfig parser does.
 */

export interface JaasEntry {
  loginModule: string;
  flag: string;
  options: Map<string, string>;
}

const FLAGS = new Set(["required", "requisite", "sufficient", "optional"]);

/** Parses one entry; throws Error with the reason when the text is not one. */
export function parseJaasConfig(text: string): JaasEntry {
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const word = (): string => {
    skipSpace();
    const start = i;
    while (i < text.length && /[^\s=;"]/.test(text[i])) i++;
    return text.slice(start, i);
  };
  const value = (): string => {
    skipSpace();
    if (text[i] !== '"') return word();
    i++;
    let out = "";
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\" && i + 1 < text.length) i++;
      out += text[i++];
    }
    if (text[i] !== '"') throw new Error("unterminated quoted value in sasl.jaas.config");
    i++;
    return out;
  };
  const loginModule = word();
  if (!loginModule) throw new Error("sasl.jaas.config names no login module");
  const flag = word();
  if (!FLAGS.has(flag)) {
    throw new Error(`sasl.jaas.config: login module control flag '${flag}' is not valid`);
  }
  const options = new Map<string, string>();
  while (true) {
    skipSpace();
    if (text[i] === ";") break;
    if (i >= text.length) throw new Error("sasl.jaas.config must end with ';'");
    const key = word();
    skipSpace();
    if (!key || text[i] !== "=") throw new Error(`sasl.jaas.config: option '${key}' has no value`);
    i++;
    options.set(key, value());
  }
  i++;
  skipSpace();
  if (i < text.length) {
    throw new Error("sasl.jaas.config holds more than one login module (Kafka allows one)");
  }
  return { loginModule, flag, options };
}
