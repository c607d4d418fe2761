/**
 * Keeping a benchmark's load generators off the broker's cores with taskset(1): the broker
 * gets the first half of the cores this process may use, the generators the other half. A
 * figure taken with generators and broker on the same cores measures the machine as much as
 * the broker, so a result records whether pinning happened and why not.
 */

export interface Pinning {
  pinned: boolean;
  /** taskset cpu lists, when pinned. */
  brokerCpus?: string;
  generatorCpus?: string;
  /** "pinned: broker on …, generators on …" or why not, e.g. "not pinned (2 cores)". */
  note: string;
}

/** Expands a cpu list such as "0-3,6" (the format of /proc's Cpus_allowed_list). */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(",")) {
    if (!part) continue;
    const [a, b] = part.split("-").map(Number);
    if (!Number.isInteger(a) || (b !== undefined && !Number.isInteger(b))) return [];
    for (let c = a; c <= (b ?? a); c++) cpus.push(c);
  }
  return cpus;
}

/**
 * The split for `cpus` (the cores this process may run on): none below 4 cores, where a
 * half of one or two cores would starve one side.
 */
export function planPinning(cpus: number[], tasksetAvailable: boolean): Pinning {
  if (cpus.length < 4) return { pinned: false, note: `not pinned (${cpus.length} cores)` };
  if (!tasksetAvailable) {
    return { pinned: false, note: `not pinned (taskset unavailable, ${cpus.length} cores)` };
  }
  const half = Math.floor(cpus.length / 2);
  const brokerCpus = cpus.slice(0, half).join(",");
  const generatorCpus = cpus.slice(half).join(",");
  return {
    pinned: true,
    brokerCpus,
    generatorCpus,
    note: `pinned: broker on cpus ${brokerCpus}, generators on ${generatorCpus}`,
  };
}

/** The cores this process may use (Linux), else 0 … hardwareConcurrency − 1. */
async function allowedCpus(): Promise<number[]> {
  try {
    const status = await Deno.readTextFile("/proc/self/status");
    const m = /Cpus_allowed_list:\s*(\S+)/.exec(status);
    const cpus = m ? parseCpuList(m[1]) : [];
    if (cpus.length > 0) return cpus;
  } catch {
    // not Linux
  }
  return Array.from({ length: navigator.hardwareConcurrency || 1 }, (_, i) => i);
}

async function tasksetWorks(): Promise<boolean> {
  try {
    const o = await new Deno.Command("taskset", {
      args: ["-c", "0", "true"],
      stdout: "null",
      stderr: "null",
    }).output();
    return o.success;
  } catch {
    return false;
  }
}

/** This machine's split (taskset is only probed when there are enough cores to split). */
export async function machinePinning(): Promise<Pinning> {
  const cpus = await allowedCpus();
  return planPinning(cpus, cpus.length >= 4 && await tasksetWorks());
}

/** Pins every thread of a running process (`taskset -a -p -c`); threads it starts later inherit it. */
export async function pinProcess(pid: number, cpus: string): Promise<void> {
  const o = await new Deno.Command("taskset", {
    args: ["-a", "-p", "-c", cpus, String(pid)],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!o.success) {
    throw new Error(`taskset -a -p -c ${cpus} ${pid}: ${new TextDecoder().decode(o.stderr)}`);
  }
}

/** `cmd args` wrapped in `taskset -c cpus` when pinned, unchanged otherwise. */
export function pinnedCommand(
  p: Pinning,
  cmd: string,
  args: string[],
): [string, string[]] {
  return p.pinned ? ["taskset", ["-c", p.generatorCpus!, cmd, ...args]] : [cmd, args];
}
