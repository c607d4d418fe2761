/**
 * DeleteTopics (key 20), v0–6.
 * Behaviour: closes and removes the topic's partitions and metadata; unknown names get
 * UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID; with
 * `delete.topic.enable=false`, TOPIC_DELETION_DISABLED.
 * Authorization (with an authorizer, as Kafka): DELETE on each topic, else
 * TOPIC_AUTHORIZATION_FAILED; a topic named by id also needs DESCRIBE, else its name is not
 * answered.
 * Version notes: v0–5 send names (v1+ throttle time); v6 sends topics by name or id and gets
 * both back; as in Kafka, a v6 topic with both a name (even "") and a non-zero id, or with
 * neither, and a name or id given twice get INVALID_REQUEST. v4+ flexible; v5+ carries error
 * messages.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  type DeleteTopicsResponseDeletableTopicResult,
} from "../../protocol/messages/mod.ts";
import type { Encodable } from "../../protocol/schema.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, ResourceType } from "../security/acl_binding.ts";
import { errorCodeOf, errorMessageOf } from "./util.ts";

const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

export const deleteTopics = defineApi({
  apiKey: 20,
  name: "DeleteTopics",
  minVersion: 0,
  maxVersion: 6,
  request: DeleteTopicsRequest,
  response: DeleteTopicsResponse,
  handler: async (req, ctx) => {
    const { services, apiVersion } = ctx;
    const wanted: { name: string | null; topicId: string }[] = apiVersion >= 6
      ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
      : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses: Encodable<DeleteTopicsResponseDeletableTopicResult>[] = [];
    const topicAllowed = (op: number, name: string) =>
      services.authorizer.authorize(ctx, op, ResourceType.TOPIC, name);
    const invalid = (name: string | null, topicId: string, message: string) =>
      responses.push({
        name,
        topicId,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: message,
      });
    // As Kafka's controller: a topic is named by its name or by its id, never both; a name or
    // id given twice deletes nothing and is answered once.
    const count = new Map<string, number>();
    const keyOf = (w: { name: string | null; topicId: string }) =>
      w.name !== null ? `n:${w.name}` : `i:${w.topicId}`;
    for (const w of wanted) count.set(keyOf(w), (count.get(keyOf(w)) ?? 0) + 1);
    const answeredDuplicate = new Set<string>();
    for (const w of wanted) {
      if (w.name === null && w.topicId === ZERO_UUID) {
        invalid(null, ZERO_UUID, "Neither topic name nor id were specified.");
        continue;
      }
      if (w.name !== null && w.topicId !== ZERO_UUID) {
        invalid(w.name, w.topicId, "You may not specify both topic name and topic id.");
        continue;
      }
      const key = keyOf(w);
      if (count.get(key)! > 1) {
        if (!answeredDuplicate.has(key)) {
          answeredDuplicate.add(key);
          if (w.name !== null) invalid(w.name, ZERO_UUID, "Duplicate topic name.");
          else invalid(null, w.topicId, "Duplicate topic id.");
        }
        continue;
      }
      const out: Encodable<DeleteTopicsResponseDeletableTopicResult> = {
        name: w.name,
        topicId: w.topicId,
        errorCode: 0,
        errorMessage: null,
      };
      responses.push(out);
      try {
        let name = w.name;
        if (name === null) {
          const t = services.metadataCache.topicById(w.topicId);
          if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_ID);
          name = t.name;
          if (!topicAllowed(AclOperation.DESCRIBE, name)) {
            throw new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          }
          out.name = name;
        }
        if (!topicAllowed(AclOperation.DELETE, name)) {
          throw new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        }
        const t = services.metadataCache.topic(name);
        if (t) out.topicId = t.topicId;
        await services.topicAdmin.deleteTopic(name);
      } catch (e) {
        out.errorCode = errorCodeOf(e, `delete topic ${w.name}`);
        out.errorMessage = errorMessageOf(e);
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
