/**
 * ACLs as Kafka's admin API has them (org.apache.kafka.common.acl and .resource): a binding is
 * a resource pattern (type, name, LITERAL or PREFIXED) and an access control entry (principal,
 * host, operation, ALLOW or DENY). Filters are the same shape with ANY/MATCH and null wildcards,
 * as DescribeAcls and DeleteAcls send them. The numeric codes are Kafka's wire codes.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";

/** Kafka's ResourceType codes. */
export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;
export type ResourceType = typeof ResourceType[keyof typeof ResourceType];

/** Kafka's PatternType codes. */
export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export type PatternType = typeof PatternType[keyof typeof PatternType];

/** Kafka's AclOperation codes (also the bit positions of authorized-operations fields). */
export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;
export type AclOperation = typeof AclOperation[keyof typeof AclOperation];

/** Kafka's AclPermissionType codes. */
export const AclPermissionType = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;
export type AclPermissionType = typeof AclPermissionType[keyof typeof AclPermissionType];

/** The one name of the CLUSTER resource (Kafka's CLUSTER_NAME). */
export const CLUSTER_NAME = "kafka-cluster";
/** A literal resource name matching every resource of its type. */
export const WILDCARD_RESOURCE = "*";
/** The principal matching every user. */
export const WILDCARD_PRINCIPAL = "User:*";
export const WILDCARD_HOST = "*";

/** One ACL. */
export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** What DescribeAcls and DeleteAcls match ACLs against; null strings match any. */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

/** The operations each resource type knows (Kafka's ResourceType#supportedOperations). */
export const SUPPORTED_OPERATIONS: Readonly<Record<number, readonly number[]>> = {
  [ResourceType.TOPIC]: [
    AclOperation.READ,
    AclOperation.WRITE,
    AclOperation.CREATE,
    AclOperation.DESCRIBE,
    AclOperation.DELETE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
  ],
  [ResourceType.GROUP]: [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE],
  [ResourceType.CLUSTER]: [
    AclOperation.CREATE,
    AclOperation.CLUSTER_ACTION,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
    AclOperation.IDEMPOTENT_WRITE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
  ],
  [ResourceType.TRANSACTIONAL_ID]: [AclOperation.DESCRIBE, AclOperation.WRITE],
  [ResourceType.DELEGATION_TOKEN]: [AclOperation.DESCRIBE],
  [ResourceType.USER]: [
    AclOperation.CREATE_TOKENS,
    AclOperation.DESCRIBE_TOKENS,
  ],
};

const RESOURCE_TYPE_NAMES = Object.fromEntries(
  Object.entries(ResourceType).map(([k, v]) => [v, k]),
) as Record<number, string>;
const OPERATION_NAMES = Object.fromEntries(
  Object.entries(AclOperation).map(([k, v]) => [v, k]),
) as Record<number, string>;

export function resourceTypeName(t: number): string {
  return RESOURCE_TYPE_NAMES[t] ?? "UNKNOWN";
}
export function operationName(op: number): string {
  return OPERATION_NAMES[op] ?? "UNKNOWN";
}

function isKnown(code: number, table: Record<string, number>): boolean {
  return code !== 0 && Object.values(table).includes(code);
}

function invalid(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_REQUEST, message);
}

/**
 * Checks an ACL to create as Kafka does (KafkaApis and AclControlManager.validateNewAcl);
 * throws INVALID_REQUEST with Kafka's messages.
 */
export function validateNewAcl(b: AclBinding): void {
  if (
    !isKnown(b.resourceType, ResourceType) || b.resourceType === ResourceType.ANY
  ) throw invalid(`Invalid resourceType ${resourceTypeName(b.resourceType)}`);
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) {
    throw invalid(`Invalid patternType ${patternTypeName(b.patternType)}`);
  }
  if (!isKnown(b.operation, AclOperation) || b.operation === AclOperation.ANY) {
    throw invalid(`Invalid operation ${operationName(b.operation)}`);
  }
  if (b.permissionType !== AclPermissionType.ALLOW && b.permissionType !== AclPermissionType.DENY) {
    throw invalid(`Invalid permissionType ${permissionTypeName(b.permissionType)}`);
  }
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) {
    throw invalid(`The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`);
  }
  if (b.resourceName === "") throw invalid("Invalid empty resource name");
  if (!b.principal.includes(":")) {
    throw invalid(
      `Could not parse principal from \`${b.principal}\` (no colon is present separating ` +
        "the principal type from the principal name)",
    );
  }
}

/** Checks a filter as Kafka does (AclControlManager.validateFilter). */
export function validateFilter(f: AclBindingFilter): void {
  if (
    !isKnown(f.resourceType, ResourceType) || !isKnown(f.patternType, PatternType)
  ) throw invalid("Unknown patternFilter.");
  if (!isKnown(f.operation, AclOperation) || !isKnown(f.permissionType, AclPermissionType)) {
    throw invalid("Unknown entryFilter.");
  }
}

export function patternTypeName(p: number): string {
  return Object.entries(PatternType).find(([, v]) => v === p)?.[0] ?? "UNKNOWN";
}
export function permissionTypeName(p: number): string {
  return Object.entries(AclPermissionType).find(([, v]) => v === p)?.[0] ?? "UNKNOWN";
}

/** Kafka's ResourcePatternFilter.matches. */
function patternMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (
    f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH &&
    f.patternType !== b.patternType
  ) return false;
  if (f.resourceName === null) return true;
  if (f.patternType === PatternType.ANY || f.patternType === b.patternType) {
    return f.resourceName === b.resourceName;
  }
  return b.patternType === PatternType.LITERAL
    ? f.resourceName === b.resourceName || b.resourceName === WILDCARD_RESOURCE
    : f.resourceName.startsWith(b.resourceName);
}

/** Kafka's AclBindingFilter.matches. */
export function filterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  return patternMatches(f, b) &&
    (f.principal === null || f.principal === b.principal) &&
    (f.host === null || f.host === b.host) &&
    (f.operation === AclOperation.ANY || f.operation === b.operation) &&
    (f.permissionType === AclPermissionType.ANY || f.permissionType === b.permissionType);
}

/** Whether two bindings are the same ACL. */
export function sameAcl(a: AclBinding, b: AclBinding): boolean {
  return a.resourceType === b.resourceType && a.resourceName === b.resourceName &&
    a.patternType === b.patternType && a.principal === b.principal && a.host === b.host &&
    a.operation === b.operation && a.permissionType === b.permissionType;
}
