/**
 * Opening thousands of partitions runs in slices of about 10 ms with a macrotask boundary
 * between them, so requests on other partitions (and timers) are served meanwhile instead of
 * waiting for the whole change.
 */
export class WorkSlices {
  private sliceStart = performance.now();

  async next(): Promise<void> {
    if (performance.now() - this.sliceStart < 10) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.sliceStart = performance.now();
  }
}
