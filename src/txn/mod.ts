/**
 * Transactions: the transaction coordinator as the broker runs it. The coordinator
 * itself (transaction_coordinator.ts) knows nothing of the broker; this wires it to the
 * broker's logs, producer ids and settings.
 */
import type { BrokerConnections } from "../cluster/broker_connections.ts";
import type { Leadership } from "../cluster/leadership.ts";
import type { BrokerConfig } from "../config.ts";
import { TransactionCoordinator, type TxnCoordinatorDeps } from "./transaction_coordinator.ts";
import type { InternalTopicHost } from "../internal_topic.ts";
import { LogMarkerWriter, LogTxnStore, type MarkerHost } from "./txn_log_store.ts";
import { TxnMarkerChannelManager } from "./txn_marker_channel.ts";

export { TransactionCoordinator } from "./transaction_coordinator.ts";
export { TRANSACTION_STATE_TOPIC } from "./transaction_log.ts";

/**
 * The coordinator for a broker: state in `__transaction_state`, markers into its logs, or
 * through WriteTxnMarkers to the broker leading the partition.
 */
export function brokerTransactionCoordinator(
  host: InternalTopicHost & MarkerHost,
  config: BrokerConfig,
  leadership: Leadership,
  connections: BrokerConnections,
  nextProducerId: () => Promise<number>,
  onTransactionCompleted?: TxnCoordinatorDeps["onTransactionCompleted"],
): TransactionCoordinator {
  return new TransactionCoordinator({
    store: new LogTxnStore(
      host,
      config.int("transaction.state.log.num.partitions"),
      config.int("transaction.state.log.segment.bytes"),
    ),
    markers: new TxnMarkerChannelManager(new LogMarkerWriter(host), leadership, connections, {
      partitionExists: (t, p) => host.hasPartition(t, p),
    }),
    nextProducerId,
    onTransactionCompleted,
    config: {
      transactionMaxTimeoutMs: config.int("transaction.max.timeout.ms"),
      transactionalIdExpirationMs: config.int("transactional.id.expiration.ms"),
      abortTimedOutTransactionsIntervalMs: config.int(
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
      ),
      removeExpiredTransactionalIdsIntervalMs: config.int(
        "transaction.remove.expired.transaction.cleanup.interval.ms",
      ),
    },
  });
}
