/**
 * A broker's access control: the ACL authorizer and the client quotas, each kept where the
 * broker keeps its state (the data directory; memory for the memory engine, lasting as long
 * as the broker; the metadata store in a cluster, shared by every broker), and, with Deno
 * workers, one set of quota rates per broker: worker 0 keeps them and the others ask it.
 */
import {
  ClientQuotaManager,
  type QuotaAccounting,
  type QuotaCharge,
} from "../quota/client_quota_manager.ts";
import { FileClientQuotaStore, MemoryClientQuotaStore } from "../quota/quota_store.ts";
import { MEMORY_DATA_DIR } from "../../storage/memory_log_directory.ts";
import type { BrokerConfig } from "../config.ts";
import type { Metrics } from "../metrics.ts";
import type { Propagation } from "../workers/propagation.ts";
import type { WorkerCluster } from "../workers/worker_cluster.ts";
import { CONTROLLER_WORKER } from "../workers/ownership.ts";
import { authorizerFor, type StandardAuthorizer } from "./authorizer_config.ts";
import type { ClusterSecurityState } from "./cluster_security.ts";
import type { ClientQuotaApi } from "../services.ts";

/** What a request is charged when worker 0 cannot be asked: nothing. */
const NO_CHARGE: QuotaCharge = { throttleMs: 0, type: "request_percentage" };

export interface AccessControl {
  /** Undefined without `authorizer.class.name`: everything is allowed. */
  authorizer?: StandardAuthorizer;
  clientQuotas: ClientQuotaManager;
  /** This worker's way to the broker's quota rates. */
  quotaAccounting: QuotaAccounting;
}

export function accessControl(
  config: BrokerConfig,
  dataDir: string,
  metrics: Metrics,
  propagation: Propagation,
  opts: { shared?: ClusterSecurityState; cluster?: WorkerCluster },
): AccessControl {
  const { shared, cluster } = opts;
  const metaDir = dataDir === MEMORY_DATA_DIR ? null : dataDir;
  const authorizer = authorizerFor(config, metaDir, metrics, propagation, shared?.acls);
  const clientQuotas = new ClientQuotaManager(
    shared
      ? shared.clientQuotas
      : metaDir === null
      ? new MemoryClientQuotaStore()
      : new FileClientQuotaStore(dataDir),
    {
      samples: config.int("quota.window.num"),
      windowMs: config.int("quota.window.size.seconds") * 1000,
    },
    metrics,
  );
  shared?.follow(authorizer, clientQuotas, propagation);
  const quotaAccounting: QuotaAccounting = cluster && !cluster.isController
    ? {
      beforeRequest: (a) =>
        cluster.call(CONTROLLER_WORKER, "quotaBefore", a).catch(() => NO_CHARGE),
      afterRequest: (a) => cluster.call(CONTROLLER_WORKER, "quotaAfter", a).catch(() => NO_CHARGE),
    }
    : clientQuotas;
  return { authorizer, clientQuotas, quotaAccounting };
}

/**
 * DescribeClientQuotas / AlterClientQuotas as handlers see them: an applied change reaches
 * the other workers before the answer (they enforce the same quotas).
 */
export function clientQuotaService(
  clientQuotas: ClientQuotaManager,
  propagation: Propagation,
): ClientQuotaApi {
  return {
    describe: (components, strict) => clientQuotas.describe(components, strict),
    async alter(alterations, validateOnly) {
      const results = await clientQuotas.alter(alterations, validateOnly);
      if (!validateOnly && results.some((r) => r === null)) {
        propagation.propagate("syncClientQuotas");
        await propagation.propagated();
      }
      return results;
    },
  };
}
