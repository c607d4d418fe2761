/**
 * DeleteAcls (key 31), v0–3.
 * Behaviour: as Kafka without an authorizer: nothing is deleted; every filter gets a result
 * with SECURITY_DISABLED, the message "No Authorizer is configured." (Kafka's exact text) and
 * no matching ACLs, in request order.
 * Version notes: v1 adds the pattern type filter (and matching ACLs' pattern type); v2 is
 * flexible; v3 is the same as v2 (it allows the USER_PRINCIPAL resource type).
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { DeleteAclsRequest, DeleteAclsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { NO_AUTHORIZER } from "./util.ts";

export const deleteAcls = defineApi({
  apiKey: 31,
  name: "DeleteAcls",
  minVersion: 0,
  maxVersion: 3,
  request: DeleteAclsRequest,
  response: DeleteAclsResponse,
  handler: (req) => ({
    throttleTimeMs: 0,
    filterResults: req.filters.map(() => ({
      errorCode: ErrorCode.SECURITY_DISABLED,
      errorMessage: NO_AUTHORIZER,
      matchingAcls: [],
    })),
  }),
});
