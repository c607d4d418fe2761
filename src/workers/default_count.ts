/**
 * How many workers the CLI starts without `--workers`. A request whose partition another
 * worker owns pays a thread round trip (~300–400 µs of CPU measured on 2 cores), and clients,
 * the kernel's socket and page-cache copies need CPU too: on 2 cores 2 workers lost to 1 in
 * every workload bench/workers.ts and issue 17's runs measured. So: 1 below 4 cores, then one
 * core left for the rest, and at most 16 (a request is local with odds of about one in N, so
 * past that more workers mostly add messages between them).
 */
export function defaultWorkerCount(cores: number): number {
  if (!Number.isFinite(cores) || cores < 4) return 1;
  return Math.min(Math.floor(cores) - 1, 16);
}
