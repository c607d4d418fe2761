/** Reading Kafka's `server.properties` files. */

/**
 * Parses `server.properties` text exactly as `java.util.Properties.load` reads it, so a file
 * Kafka accepts means the same here. Natural lines end at `\n`, `\r` or `\r\n`; a line whose
 * first non-blank character is `#` or `!` is a comment, and a comment never continues onto
 * the next line. Any other line ending in an odd number of backslashes continues on the next
 * one, whose leading blanks (space, tab, form feed) are dropped. The key ends at the first
 * unescaped `=`, `:` or blank; blanks around the separator are skipped and the rest of the
 * line, trailing blanks included, is the value. In keys and values `\uXXXX` is a character,
 * `\t` `\n` `\r` `\f` are those characters and a backslash before anything else stands for
 * that character (`\=`, `\:`, `\ `, `\\`). Later keys replace earlier ones. Throws on a
 * malformed `\uXXXX`, as Java does.
 */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of logicalLines(text)) {
    let keyEnd = 0;
    let valueStart = line.length;
    let hasSeparator = false;
    let backslash = false;
    for (; keyEnd < line.length; keyEnd++) {
      const c = line[keyEnd];
      if ((c === "=" || c === ":") && !backslash) {
        valueStart = keyEnd + 1;
        hasSeparator = true;
        break;
      }
      if (isBlank(c) && !backslash) {
        valueStart = keyEnd + 1;
        break;
      }
      backslash = c === "\\" ? !backslash : false;
    }
    while (valueStart < line.length) {
      const c = line[valueStart];
      if (!isBlank(c)) {
        if (hasSeparator || (c !== "=" && c !== ":")) break;
        hasSeparator = true;
      }
      valueStart++;
    }
    out.set(unescape(line.slice(0, keyEnd)), unescape(line.slice(valueStart)));
  }
  return out;
}

function isBlank(c: string): boolean {
  return c === " " || c === "\t" || c === "\f";
}

/** Java's `Properties.LineReader`: joins continued lines, drops comments and blank lines. */
function* logicalLines(text: string): Generator<string> {
  let line = "";
  let comment = false;
  let backslash = false;
  let skipBlanks = true; // at the start of a natural line
  let continued = false; // that natural line continues a logical one
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (skipBlanks) {
      if (isBlank(c)) continue;
      if (!continued && (c === "\n" || c === "\r")) continue;
      skipBlanks = false;
      if (!continued && (c === "#" || c === "!")) comment = true;
    }
    if (c !== "\n" && c !== "\r") {
      if (!comment) {
        line += c;
        backslash = c === "\\" ? !backslash : false;
      }
      continue;
    }
    if (comment || line === "") {
      // The end of a comment or of an empty line: the next natural line starts afresh.
      comment = false;
      skipBlanks = true;
      continued = false;
      backslash = false;
      continue;
    }
    if (c === "\r" && text[i + 1] === "\n") i++;
    if (backslash) {
      line = line.slice(0, -1);
      backslash = false;
      skipBlanks = true;
      continued = true;
      continue;
    }
    yield line;
    line = "";
    skipBlanks = true;
    continued = false;
  }
  if (line !== "" && !comment) yield backslash ? line.slice(0, -1) : line;
}

/** `loadConvert`: resolves the escapes of a key or value. */
function unescape(s: string): string {
  if (!s.includes("\\")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = s[++i];
    if (e === undefined) break;
    if (e === "u") {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Error("Malformed \\uxxxx encoding.");
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else {
      out += e === "t" ? "\t" : e === "r" ? "\r" : e === "n" ? "\n" : e === "f" ? "\f" : e;
    }
  }
  return out;
}
