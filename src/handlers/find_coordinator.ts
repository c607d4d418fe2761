/**
 * FindCoordinator (key 10), v0–6.
 * Behaviour: this broker is the group coordinator for every group (key type 0) and the
 * transaction coordinator for every transactional id (key type 1; `__transaction_state` is
 * created by the first transactional InitProducerId). Other key types get INVALID_REQUEST.
 * Authorization (with an authorizer, as Kafka): DESCRIBE on the group
 * (GROUP_AUTHORIZATION_FAILED) or on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
 * Version notes: v0 has no key type (always a group); v1+ key type and error message;
 * v3+ flexible; v4+ batches several keys in `coordinatorKeys` and answers per key in
 * `coordinators` instead of the top-level fields.
 * librdkafka also reads support of this API as "the broker can do LZ4", so it must be served.
 */
import { ErrorCode, errorName } from "../../protocol/errors.ts";
import { FindCoordinatorRequest, FindCoordinatorResponse } from "../../protocol/messages/mod.ts";
import { defineApi, type RequestContext } from "../registry.ts";
import { AclOperation } from "../security/acl_binding.ts";
import {
  GROUP_AUTHORIZATION_FAILED,
  groupAllowed,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  transactionalIdAllowed,
} from "./authorization.ts";

const GROUP = 0;
const TRANSACTION = 1;

function lookup(ctx: RequestContext, key: string, keyType: number) {
  const services = ctx.services;
  const denied = (errorCode: number, errorMessage: string) => ({
    key,
    nodeId: -1,
    host: "",
    port: -1,
    errorCode,
    errorMessage,
  });
  if (keyType === GROUP && !groupAllowed(ctx, AclOperation.DESCRIBE, key)) {
    return denied(ErrorCode.GROUP_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED);
  }
  if (keyType === TRANSACTION && !transactionalIdAllowed(ctx, AclOperation.DESCRIBE, key)) {
    return denied(
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
  }
  if (keyType === GROUP || keyType === TRANSACTION) {
    return {
      key,
      nodeId: services.metadataCache.nodeId,
      host: services.metadataCache.advertisedHost,
      port: services.metadataCache.advertisedPort,
      errorCode: 0,
      errorMessage: null,
    };
  }
  const errorCode = ErrorCode.INVALID_REQUEST;
  return { key, nodeId: -1, host: "", port: -1, errorCode, errorMessage: errorName(errorCode) };
}

export const findCoordinator = defineApi({
  apiKey: 10,
  name: "FindCoordinator",
  minVersion: 0,
  maxVersion: 6,
  request: FindCoordinatorRequest,
  response: FindCoordinatorResponse,
  handler: (req, ctx) => {
    const apiVersion = ctx.apiVersion;
    const keyType = req.keyType ?? GROUP;
    if (apiVersion >= 4) {
      return {
        throttleTimeMs: 0,
        coordinators: req.coordinatorKeys.map((k) => lookup(ctx, k, keyType)),
      };
    }
    // Before v4 the coordinator's fields are the response's own; `key` is no field there.
    const { key: _key, ...c } = lookup(ctx, req.key, keyType);
    return { throttleTimeMs: 0, ...c };
  },
});
