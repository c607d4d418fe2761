/**
 * InitProducerId (key 22), v0–5.
 * Behaviour: an idempotent producer (no transactional id) gets a fresh producer id with
 * epoch 0. Ids come from blocks reserved on disk before use, so an id is never handed out
 * twice, even across restarts (sequence state for old ids is rebuilt from the log).
 * Transactional ids need the transaction coordinator, which this broker does not run yet:
 * they get COORDINATOR_NOT_AVAILABLE (FindCoordinator is not served either).
 * Version notes: v2+ flexible; v3+ may carry the current id/epoch (KIP-360), which for a
 * non-transactional producer is simply replaced by a new id.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { InitProducerIdRequest, InitProducerIdResponse } from "../../protocol/messages/mod.ts";
import type { ApiRegistration } from "../registry.ts";
import { errorCodeOf } from "./util.ts";

export const initProducerId: ApiRegistration = {
  apiKey: 22,
  name: "InitProducerId",
  minVersion: 0,
  maxVersion: 5,
  request: InitProducerIdRequest,
  response: InitProducerIdResponse,
  handler: async (req, { broker }) => {
    if (req.transactionalId != null) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
        producerId: -1,
        producerEpoch: -1,
      };
    }
    try {
      const producerId = await broker.producerIds.next();
      return { throttleTimeMs: 0, errorCode: 0, producerId, producerEpoch: 0 };
    } catch (e) {
      return {
        throttleTimeMs: 0,
        errorCode: errorCodeOf(e, "init producer id"),
        producerId: -1,
        producerEpoch: -1,
      };
    }
  },
};
