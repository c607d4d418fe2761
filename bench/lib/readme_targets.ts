/**
 * Regenerates the targets table in README.md's Performance section from one bench run's
 * bench/out/targets.md, so the README states what a run measured rather than what someone
 * remembered. The table sits between two HTML comments; everything else in the section
 * (the prose on what the profiles show) is written by hand.
 *
 *   deno run -A bench/lib/readme_targets.ts     (after `deno task bench`)
 *   deno task bench -- --write-readme           (the same, at the end of the run)
 */

export const BEGIN = "<!-- bench:targets:begin -->";
export const END = "<!-- bench:targets:end -->";

/** Facts about the machine a run was measured on, printed above the table. */
export interface RunFacts {
  date: string;
  cores: number;
  cpu: string;
}

/** `readme` with the block between the markers replaced by `targets` and a header line. */
export function replaceTargets(readme: string, targets: string, facts: RunFacts): string {
  const b = readme.indexOf(BEGIN);
  const e = readme.indexOf(END);
  if (b < 0 || e < b) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
  const head =
    `One full \`deno task bench\` run, ${facts.date}, on ${facts.cores} core${
      facts.cores === 1 ? "" : "s"
    } (${facts.cpu});\nthe load generators share the broker's cores. Every ratio is against a ` +
    `baseline measured in the same run.`;
  const body = [BEGIN, "", head, "", targets.trimEnd(), "", END].join("\n");
  return readme.slice(0, b) + body + readme.slice(e + END.length);
}

/** The CPU model from /proc/cpuinfo, or "unknown CPU". */
export async function cpuModel(): Promise<string> {
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    return /^model name\s*:\s*(.+)$/m.exec(info)?.[1].trim() ?? "unknown CPU";
  } catch {
    return "unknown CPU";
  }
}

/** Rewrites `readmePath` from `targetsPath`; the date is the targets file's mtime. */
export async function writeReadmeTargets(readmePath: string, targetsPath: string): Promise<void> {
  const targets = await Deno.readTextFile(targetsPath);
  const mtime = (await Deno.stat(targetsPath)).mtime ?? new Date();
  const facts: RunFacts = {
    date: mtime.toISOString().slice(0, 10),
    cores: navigator.hardwareConcurrency || 1,
    cpu: await cpuModel(),
  };
  const readme = await Deno.readTextFile(readmePath);
  await Deno.writeTextFile(readmePath, replaceTargets(readme, targets, facts));
}

if (import.meta.main) {
  const root = new URL("../../", import.meta.url).pathname;
  await writeReadmeTargets(`${root}README.md`, `${root}bench/out/targets.md`);
  console.log("README.md: targets table regenerated from bench/out/targets.md");
}
