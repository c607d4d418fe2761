/**
 * Hands out producer ids. Like Kafka's ProducerIdManager it reserves ids in blocks and
 * records each block's end on disk before using it, so no id is ever given twice, even
 * after a crash: sequence state of old ids lives on in the log and would reject a reused id.
 */
const BLOCK = 1000;

export class ProducerIdManager {
  private nextId = 0;
  private blockEnd = 0;
  private reserving: Promise<void> | null = null;

  private constructor(private readonly file: string | null) {}

  /** Ids recorded under `dataDir`, or (null: the memory engine) only in memory. */
  static async open(dataDir: string | null): Promise<ProducerIdManager> {
    if (dataDir === null) return new ProducerIdManager(null);
    await Deno.mkdir(`${dataDir}/meta`, { recursive: true });
    const m = new ProducerIdManager(`${dataDir}/meta/producer_id_block`);
    try {
      const text = await Deno.readTextFile(m.file!);
      const end = Number(text.trim());
      if (Number.isSafeInteger(end) && end >= 0) m.nextId = m.blockEnd = end;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return m;
  }

  async next(): Promise<number> {
    while (this.nextId >= this.blockEnd) {
      this.reserving ??= this.reserve().finally(() => (this.reserving = null));
      await this.reserving;
    }
    return this.nextId++;
  }

  private async reserve(): Promise<void> {
    const end = this.blockEnd + BLOCK;
    if (this.file === null) {
      this.nextId = this.blockEnd;
      this.blockEnd = end;
      return;
    }
    const tmp = `${this.file}.tmp`;
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      await f.write(new TextEncoder().encode(`${end}\n`));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, this.file);
    this.nextId = this.blockEnd;
    this.blockEnd = end;
  }
}
