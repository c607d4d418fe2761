/** The signal that a request must close its connection instead of being answered. */

/**
 * Closes the connection after logging why: at warn for a peer that broke the protocol, at
 * info where Kafka closes on purpose to make the client act (a failed acks=0 produce, whose
 * producer has no response to learn from and refreshes its metadata on the disconnect).
 * `errorCodes` are counted in the request metrics in place of a response's.
 */
export class CloseConnection extends Error {
  readonly level: "warn" | "info";
  readonly errorCodes: readonly number[] | undefined;

  constructor(
    message: string,
    opts: { level?: "warn" | "info"; errorCodes?: readonly number[] } = {},
  ) {
    super(message);
    this.level = opts.level ?? "warn";
    this.errorCodes = opts.errorCodes;
  }
}
