/**
 * A cluster member's security state, shared by every broker through the metadata store: the
 * SCRAM credentials, the ACLs and the client quota table (instead of the files a broker on
 * its own keeps in its data directory). Each worker of each broker mirrors the three prefixes
 * with its own watch, so a change written through any broker is seen by all; the broker that
 * wrote it answers once its own copy (and, with workers, every worker's) has it.
 */
import { existsSync } from "node:fs";
import type { MetadataStore } from "../cluster/metadata_store.ts";
import { ACL_FILE } from "./acl_store.ts";
import { SCRAM_CREDENTIALS_FILE } from "./scram_credential_store.ts";
import { CLIENT_QUOTAS_FILE } from "../quota/quota_store.ts";
import { errText, log } from "../log.ts";
import type { Propagation } from "../workers/propagation.ts";
import { PrefixMirror } from "../cluster/prefix_mirror.ts";
import {
  MetadataClientQuotaStore,
  QUOTA_VALUES_CODEC,
  QUOTAS_PREFIX,
} from "../quota/metadata_quota_store.ts";
import {
  ACLS_PREFIX,
  aclsCodec,
  MetadataAclStore,
  MetadataScramCredentialStore,
  SCRAM_USERS_PREFIX,
  USER_CREDENTIALS_CODEC,
} from "./metadata_security_store.ts";

export class ClusterSecurityState {
  readonly scramCredentials: MetadataScramCredentialStore;
  readonly acls: MetadataAclStore;
  readonly clientQuotas: MetadataClientQuotaStore;
  /** Run after a SCRAM change is saved and seen here: the broker tells its other workers. */
  afterScramChange?: () => Promise<void>;
  private readonly mirrors: PrefixMirror<unknown>[];

  constructor(store: MetadataStore) {
    const users = new PrefixMirror(store, SCRAM_USERS_PREFIX, USER_CREDENTIALS_CODEC);
    const acls = new PrefixMirror(store, ACLS_PREFIX, aclsCodec());
    const quotas = new PrefixMirror(store, QUOTAS_PREFIX, QUOTA_VALUES_CODEC);
    this.mirrors = [users, acls, quotas] as PrefixMirror<unknown>[];
    this.scramCredentials = new MetadataScramCredentialStore(
      users,
      () => this.afterScramChange?.() ?? Promise.resolve(),
    );
    this.acls = new MetadataAclStore(acls);
    this.clientQuotas = new MetadataClientQuotaStore(quotas);
  }

  /**
   * Keeps the broker's users of the state current: the authorizer and the quota manager
   * reload when another broker's change arrives through the watch, and a SCRAM change made
   * here reaches this broker's other workers before it is answered.
   */
  follow(
    authorizer: { reload(): Promise<void> } | undefined,
    quotas: { reload(): Promise<void> },
    propagation: Propagation,
  ): void {
    const warn = (e: unknown) => log.warn(`applying a cluster security change: ${errText(e)}`);
    this.acls.onChange(() => void authorizer?.reload().catch(warn));
    this.clientQuotas.onChange(() => void quotas.reload().catch(warn));
    this.afterScramChange = () => {
      propagation.propagate("syncScramCredentials");
      return propagation.propagated();
    };
  }

  /**
   * A data directory that has security files from a run on its own: they are not read in a
   * cluster (the operator recreates what is still wanted through the broker's APIs).
   */
  static warnUnusedFiles(dataDir: string): void {
    for (const f of [SCRAM_CREDENTIALS_FILE, ACL_FILE, CLIENT_QUOTAS_FILE]) {
      if (existsSync(`${dataDir}/${f}`)) {
        log.warn(
          `${dataDir}/${f} is not used by a cluster member: the cluster's metadata ` +
            `store holds SCRAM credentials, ACLs and client quotas`,
        );
      }
    }
  }

  /** Reads the current state and follows it: before the first connection is served. */
  async start(): Promise<void> {
    await Promise.all(this.mirrors.map((m) => m.start()));
  }

  async close(): Promise<void> {
    await Promise.all(this.mirrors.map((m) => m.close()));
  }
}
