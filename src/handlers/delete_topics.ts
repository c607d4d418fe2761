/**
 * DeleteTopics (key 20), v0–6.
 * Behaviour: closes and removes the topic's partitions and metadata; unknown names get
 * UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID; with
 * `delete.topic.enable=false`, TOPIC_DELETION_DISABLED.
 * Version notes: v0–5 send names (v1+ throttle time); v6 sends topics by name or id and gets both back; v4+
 * flexible; v5+ carries error messages.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { DeleteTopicsRequest, DeleteTopicsResponse } from "../../protocol/messages/mod.ts";
import type { Msg } from "../../protocol/schema.ts";
import type { ApiRegistration } from "../registry.ts";
import { errorCodeOf, errorMessageOf } from "./util.ts";

const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

export const deleteTopics: ApiRegistration = {
  apiKey: 20,
  name: "DeleteTopics",
  minVersion: 0,
  maxVersion: 6,
  request: DeleteTopicsRequest,
  response: DeleteTopicsResponse,
  handler: async (req, { broker, apiVersion }) => {
    const wanted: { name: string | null; topicId: string }[] = apiVersion >= 6
      ? (req.topics as Msg[]).map((t) => ({ name: t.name, topicId: t.topicId }))
      : (req.topicNames as string[]).map((name) => ({ name, topicId: ZERO_UUID }));
    const responses: Msg[] = [];
    for (const w of wanted) {
      const out: Msg = { name: w.name, topicId: w.topicId, errorCode: 0, errorMessage: null };
      responses.push(out);
      try {
        let name = w.name;
        if (name == null || (apiVersion >= 6 && w.topicId !== ZERO_UUID)) {
          const t = broker.topicById(w.topicId);
          if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_ID);
          name = t.name;
          out.name = name;
        }
        const t = broker.topic(name);
        if (t) out.topicId = t.topicId;
        await broker.deleteTopic(name);
      } catch (e) {
        out.errorCode = errorCodeOf(e, `delete topic ${w.name}`);
        out.errorMessage = errorMessageOf(e);
      }
    }
    return { throttleTimeMs: 0, responses };
  },
};
