/**
 * The authorization steps many handlers share, over the authorizer service: splitting a
 * request's topics into those the principal may act on and the rest, and Kafka's default
 * messages of the authorization errors.
 */
import type { RequestContext } from "../registry.ts";
import { ResourceType } from "../security/acl_binding.ts";

/** Kafka's default messages (Errors.message()) of the authorization errors. */
export const GROUP_AUTHORIZATION_FAILED = "Group authorization failed.";
export const TRANSACTIONAL_ID_AUTHORIZATION_FAILED = "Transactional Id authorization failed.";
export const TOPIC_AUTHORIZATION_FAILED = "Topic authorization failed.";

/** Whether the principal may do `op` on a group. */
export function groupAllowed(ctx: RequestContext, op: number, groupId: string): boolean {
  return ctx.services.authorizer.authorize(ctx, op, ResourceType.GROUP, groupId);
}

/** Whether the principal may do `op` on a transactional id. */
export function transactionalIdAllowed(ctx: RequestContext, op: number, id: string): boolean {
  return ctx.services.authorizer.authorize(ctx, op, ResourceType.TRANSACTIONAL_ID, id);
}

/**
 * Splits `items` by whether the principal may do `op` on the topic each names (Kafka's
 * filterByAuthorized), keeping their order.
 */
export function partitionByTopic<T>(
  ctx: RequestContext,
  op: number,
  items: readonly T[],
  topicOf: (item: T) => string,
): { allowed: T[]; denied: T[] } {
  const ok = ctx.services.authorizer.filterAuthorized(
    ctx,
    op,
    ResourceType.TOPIC,
    items.map(topicOf),
  );
  const allowed: T[] = [];
  const denied: T[] = [];
  for (const it of items) (ok.has(topicOf(it)) ? allowed : denied).push(it);
  return { allowed, denied };
}
