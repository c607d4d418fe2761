/**
 * The broker's authorizer from its configuration: Kafka's `authorizer.class.name` (the
 * StandardAuthorizer's or AclAuthorizer's class name, or `acl`) enables the ACL authorizer
 * with `super.users` and `allow.everyone.if.no.acl.found`; unset, there is none and
 * everything is allowed, as in Kafka.
 */
import type { BrokerConfig } from "../config.ts";
import type { Metrics } from "../metrics.ts";
import type { Propagation } from "../workers/propagation.ts";
import { type AclStore, FileAclStore, MemoryAclStore } from "./acl_store.ts";
import { ALLOW_ALL_AUTHORIZER, parseSuperUsers, StandardAuthorizer } from "./authorizer.ts";

export { ALLOW_ALL_AUTHORIZER, StandardAuthorizer };

/**
 * The ACL authorizer `config` asks for, its ACLs in the data directory, or undefined. ACL
 * changes (made on the controller, where the ACL APIs run) reach the other workers, which
 * re-read the file.
 */
export function authorizerFor(
  config: BrokerConfig,
  /** null: memory storage, nothing is written (the ACLs last as long as the broker). */
  dataDir: string | null,
  metrics: Metrics,
  propagation: Propagation,
  /** A cluster member's ACLs, shared through the metadata store (instead of the data dir). */
  shared?: AclStore,
): StandardAuthorizer | undefined {
  if (config.str("authorizer.class.name") === "") return undefined;
  const store: AclStore = shared ??
    (dataDir === null ? new MemoryAclStore() : new FileAclStore(dataDir));
  return new StandardAuthorizer(store, {
    superUsers: parseSuperUsers(config.str("super.users")),
    allowEveryoneIfNoAclFound: config.bool("allow.everyone.if.no.acl.found"),
    onDenied: (type, op) => metrics.authorizationDenied(type, op),
    onChanged: () => propagation.propagate("syncAcls"),
  });
}
