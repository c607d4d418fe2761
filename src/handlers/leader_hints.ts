/**
 * KIP-951 leader hints: a Produce (v10+) or Fetch (v16+) partition refused with
 * NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH carries the current leader and its epoch, and
 * the response lists those leaders' endpoints, so the client moves without a Metadata
 * round trip.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import type { BrokerServices } from "../services.ts";
import { brokerOn } from "./util.ts";

export interface LeaderIdAndEpoch {
  leaderId: number;
  leaderEpoch: number;
}

export interface NodeEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** Whether a partition error is one KIP-951 answers with the current leader. */
export function wantsLeaderHint(errorCode: number): boolean {
  return errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ||
    errorCode === ErrorCode.FENCED_LEADER_EPOCH;
}

/** Collects the leaders named in hints, for the response's nodeEndpoints. */
export class LeaderHints {
  private readonly nodes = new Set<number>();

  constructor(
    private readonly services: BrokerServices,
    /** The listener the request came in on: the endpoints answered are on it. */
    private readonly listenerName: string,
  ) {}

  /** The partition's current leader (leaderId -1 when unknown), remembered for endpoints. */
  hint(topic: string, partition: number): LeaderIdAndEpoch {
    const l = this.services.leadership.leaderOf(topic, partition);
    if (!l) return { leaderId: -1, leaderEpoch: -1 };
    if (l.leaderId >= 0) this.nodes.add(l.leaderId);
    return { leaderId: l.leaderId, leaderEpoch: l.leaderEpoch };
  }

  endpoints(): NodeEndpoint[] {
    const out: NodeEndpoint[] = [];
    for (const id of [...this.nodes].sort((a, b) => a - b)) {
      const b = this.services.leadership.broker(id);
      const e = b && brokerOn(this.services, b, this.listenerName);
      if (b && e) out.push({ nodeId: b.nodeId, host: e.host, port: e.port, rack: b.rack });
    }
    return out;
  }
}
