/**
 * The layering of src/: the broker's lifecycle (broker.ts) is in no import cycle, handlers and
 * partition operations reach the broker only through the narrow services (src/services.ts),
 * and partition operations do not depend on the admin API.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), "../.."));
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^"'`;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Every .ts file under src/ with the src/ files it imports (type imports included). */
function srcGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) walk(path);
      else if (e.name.endsWith(".ts")) {
        const text = Deno.readTextFileSync(path);
        const deps: string[] = [];
        for (const m of text.matchAll(IMPORT)) {
          const spec = m[1] ?? m[2];
          if (!spec.startsWith(".")) continue;
          const dep = relative(ROOT, normalize(join(dirname(path), spec)));
          if (dep.startsWith("src/")) deps.push(dep);
        }
        graph.set(relative(ROOT, path), deps);
      }
    }
  };
  walk(join(ROOT, "src"));
  return graph;
}

/** A path of imports from `from` back to `to`, or null. */
function pathTo(graph: Map<string, string[]>, from: string, to: string): string[] | null {
  const seen = new Set<string>();
  const visit = (f: string, trail: string[]): string[] | null => {
    for (const d of graph.get(f) ?? []) {
      if (d === to) return [...trail, d];
      if (seen.has(d)) continue;
      seen.add(d);
      const p = visit(d, [...trail, d]);
      if (p) return p;
    }
    return null;
  };
  return visit(from, [from]);
}

Deno.test("src/broker.ts is in no import cycle", () => {
  const graph = srcGraph();
  const cycle = pathTo(graph, "src/broker.ts", "src/broker.ts");
  assert.equal(cycle, null, `import cycle: ${cycle?.join(" -> ")}`);
});

Deno.test("handlers and partition operations do not import the broker or the admin API", () => {
  const graph = srcGraph();
  for (const [file, deps] of graph) {
    if (!file.startsWith("src/handlers/") && file !== "src/partition_ops.ts") continue;
    assert(!deps.includes("src/broker.ts"), `${file} imports src/broker.ts`);
    const admin = deps.find((d) => d.startsWith("src/admin/"));
    assert(admin === undefined, `${file} imports ${admin}`);
  }
});
