/** The state one end-to-end run shares with its benchmark groups. */
import type { Row, Target } from "./e2e_report.ts";

/** One record size: its produce runs and the windowed consume. */
export interface Workload {
  size: number;
  records: number;
  /** Produce runs per acks setting (each to a fresh topic); rows show the best. */
  runs: number;
  windowRecords: number;
  windowRepeats: number;
}

export interface E2ERun {
  quick: boolean;
  skipReference: boolean;
  brokerArgs: string[] | undefined;
  say: (l: string) => void;
  budgetMs: number;
  /** Milliseconds left of the time budget. */
  remaining: () => number;
  /** A step's timeout: `cap`, bounded by what is left of the budget (at least 1 s). */
  stepTimeout: (cap: number) => number;
  workloads: Workload[];
  /** The prepared record files by record size. */
  files: Map<number, { full: string; window: string; bytes: number }>;
  tmp: string;
  /** Records a result row (rates computed) and prints it. */
  row: (r: Omit<Row, "recordsPerSec" | "mbPerSec" | "vsMock" | "vsCeiling">) => Row;
  skipped: (
    target: Target,
    kind: Row["kind"],
    size: number,
    scenario: string,
    records: number,
    detail: string,
    acks?: "1" | "all",
  ) => Row;
  /** Scenario names. */
  scen: {
    produce: (size: number, acks: string) => string;
    consume: (size: number) => string;
    window: (size: number, reps: number) => string;
  };
  tributaryInfo: { peakRssMiB: number | null; exitCode: number | null; warnings: string[] };
}
