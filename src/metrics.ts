/**
 * Broker counters: requests and errors by API key and version, latency sums, bytes and
 * records in/out per topic, connections. The admin API renders these as Prometheus text.
 */
export class Metrics {
  readonly requests = new Map<string, { count: number; errors: number; latencyMs: number }>();
  readonly topicBytesIn = new Map<string, number>();
  readonly topicRecordsIn = new Map<string, number>();
  readonly topicBytesOut = new Map<string, number>();
  connectionsOpen = 0;
  connectionsTotal = 0;

  request(apiKey: number, version: number, errorCode: number, latencyMs = 0): void {
    const k = `${apiKey}:${version}`;
    let e = this.requests.get(k);
    if (!e) this.requests.set(k, e = { count: 0, errors: 0, latencyMs: 0 });
    e.count++;
    if (errorCode !== 0) e.errors++;
    e.latencyMs += latencyMs;
  }

  produced(topic: string, bytes: number, records: number): void {
    this.topicBytesIn.set(topic, (this.topicBytesIn.get(topic) ?? 0) + bytes);
    this.topicRecordsIn.set(topic, (this.topicRecordsIn.get(topic) ?? 0) + records);
  }

  fetched(topic: string, bytes: number): void {
    this.topicBytesOut.set(topic, (this.topicBytesOut.get(topic) ?? 0) + bytes);
  }
}
