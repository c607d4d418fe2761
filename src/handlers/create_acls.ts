/**
 * CreateAcls (key 30), v0–3.
 * Behaviour: as Kafka without an authorizer: nothing is created; every creation gets a result
 * with SECURITY_DISABLED and the message "No Authorizer is configured." (Kafka's exact text),
 * in request order.
 * Version notes: v1 adds the resource pattern type; v2 is flexible; v3 is the same as v2 (it
 * allows the USER_PRINCIPAL resource type).
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { CreateAclsRequest, CreateAclsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { NO_AUTHORIZER } from "./util.ts";

export const createAcls = defineApi({
  apiKey: 30,
  name: "CreateAcls",
  minVersion: 0,
  maxVersion: 3,
  request: CreateAclsRequest,
  response: CreateAclsResponse,
  handler: (req) => ({
    throttleTimeMs: 0,
    results: req.creations.map(() => ({
      errorCode: ErrorCode.SECURITY_DISABLED,
      errorMessage: NO_AUTHORIZER,
    })),
  }),
});
