/**
 * A broker's authentication setup, built before storage opens so that its mistakes (GSSAPI,
 * a bad JAAS entry or users file, an inter-broker listener this broker cannot use) stop the
 * start first: where SCRAM credentials live (the data directory; memory for the memory
 * engine, lasting as long as the broker; the metadata store in a cluster, for every broker),
 * the SASL servers of the SASL_* listeners, and the client for the inter-broker listener.
 */
import type { ListenerSpec } from "./listeners.ts";
import type { MetadataStore } from "../cluster/metadata_store.ts";
import type { BrokerConfig } from "../config.ts";
import { type InterBrokerClient, interBrokerClient } from "../cluster/inter_broker_client.ts";
import { ClusterSecurityState } from "./cluster_security.ts";
import { type ReconfigurableSaslListener, saslListeners } from "./sasl_listener.ts";
import {
  FileScramCredentialStore,
  MemoryScramCredentialStore,
  type ScramCredentialStore,
} from "./scram_credential_store.ts";

export interface BrokerSecurity {
  scramCredentials: ScramCredentialStore;
  /** By listener name, for the SASL_* listeners. */
  sasl: Map<string, ReconfigurableSaslListener>;
  /** How this broker reaches the others (a cluster member only). */
  interBroker?: InterBrokerClient;
  /** In a cluster: credentials, ACLs and quotas in the metadata store, for every broker. */
  cluster?: ClusterSecurityState;
}

export function brokerSecurity(
  config: BrokerConfig,
  listeners: ListenerSpec[],
  opts: {
    /** null: memory storage, nothing written. */
    dataDir: string | null;
    /** The cluster's metadata store, for a cluster member. */
    metadataStore: MetadataStore | null | undefined;
    /** Worker 0 (or the only one): it warns about files a cluster member ignores. */
    controller: boolean;
    /** Set for a cluster member: the name of the listener it reaches the other brokers on. */
    interBrokerListener?: string;
  },
): BrokerSecurity {
  const { dataDir, metadataStore } = opts;
  const shared = metadataStore ? new ClusterSecurityState(metadataStore) : undefined;
  if (shared && dataDir !== null && opts.controller) {
    ClusterSecurityState.warnUnusedFiles(dataDir);
  }
  const scramCredentials = shared
    ? shared.scramCredentials
    : dataDir !== null
    ? FileScramCredentialStore.inDataDir(dataDir)
    : new MemoryScramCredentialStore();
  return {
    cluster: shared,
    scramCredentials,
    sasl: saslListeners(config, listeners, scramCredentials),
    ...(opts.interBrokerListener !== undefined
      ? { interBroker: interBrokerClient(config, listeners, opts.interBrokerListener) }
      : {}),
  };
}
