/**
 * FindCoordinator (key 10), v0–6.
 * Behaviour: this broker is the group coordinator for every group (key type 0) and the
 * transaction coordinator for every transactional id (key type 1; `__transaction_state` is
 * created by the first transactional InitProducerId). Other key types get INVALID_REQUEST.
 * Version notes: v0 has no key type (always a group); v1+ key type and error message;
 * v3+ flexible; v4+ batches several keys in `coordinatorKeys` and answers per key in
 * `coordinators` instead of the top-level fields.
 * librdkafka also reads support of this API as "the broker can do LZ4", so it must be served.
 */
import { ErrorCode, errorName } from "../../protocol/errors.ts";
import { FindCoordinatorRequest, FindCoordinatorResponse } from "../../protocol/messages/mod.ts";
import type { BrokerServices } from "../services.ts";
import type { Session } from "../security/session.ts";
import { defineApi } from "../registry.ts";

const GROUP = 0;
const TRANSACTION = 1;

function lookup(
  services: BrokerServices,
  session: Readonly<Session>,
  key: string,
  keyType: number,
) {
  if (keyType === GROUP || keyType === TRANSACTION) {
    // The coordinator's endpoint on the listener the request came in on.
    const { host, port } = services.metadataCache.endpoint(session.listenerName);
    return {
      key,
      nodeId: services.metadataCache.nodeId,
      host,
      port,
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
  handler: (req, { services, apiVersion, session }) => {
    const keyType = req.keyType ?? GROUP;
    if (apiVersion >= 4) {
      return {
        throttleTimeMs: 0,
        coordinators: req.coordinatorKeys.map((k) => lookup(services, session, k, keyType)),
      };
    }
    // Before v4 the coordinator's fields are the response's own; `key` is no field there.
    const { key: _key, ...c } = lookup(services, session, req.key, keyType);
    return { throttleTimeMs: 0, ...c };
  },
});
