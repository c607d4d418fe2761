/**
 * AlterUserScramCredentials (key 51), v0 (KIP-554).
 * Behaviour: as Kafka's ScramControlManager.alterCredentials. The client sends the salt and
 * the salted password (Hi(password, salt, i)), never the password; the broker keeps the salt,
 * the iteration count, StoredKey and ServerKey (src/security/scram_credential_store.ts; in a
 * cluster, the metadata store: metadata_security_store.ts), all of one request's accepted
 * changes in one durable write, answered once every worker of this broker has them. Per user: an empty name is
 * UNACCEPTABLE_CREDENTIAL, an unknown mechanism UNSUPPORTED_SASL_MECHANISM, iterations below the
 * mechanism's 4096 or above 16384 UNACCEPTABLE_CREDENTIAL, deleting a credential that does not
 * exist RESOURCE_NOT_FOUND, and a user altered twice in one request DUPLICATE_RESOURCE; all with
 * Kafka's messages. Results list the deletions, then the upsertions, then the errors.
 * Authorization (with an authorizer, as Kafka): ALTER on the cluster, else every named user
 * gets CLUSTER_AUTHORIZATION_FAILED and nothing changes.
 * Version notes: v0 is the only version, flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  AlterUserScramCredentialsRequest,
  type AlterUserScramCredentialsRequestScramCredentialDeletion,
  type AlterUserScramCredentialsRequestScramCredentialUpsertion,
  AlterUserScramCredentialsResponse,
  type AlterUserScramCredentialsResult,
} from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import {
  credentialFromSalted,
  SCRAM_MAX_ITERATIONS,
  scramMechanismByType,
} from "../security/sasl/scram_formatter.ts";
import type { ScramCredentialChange } from "../security/scram_credential_store.ts";

type ApiError = { code: number; message: string };

function validateNameAndMechanism(name: string, mechanism: number): ApiError | null {
  if (name === "") {
    return { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: "Username must not be empty" };
  }
  if (!scramMechanismByType(mechanism)) {
    return { code: ErrorCode.UNSUPPORTED_SASL_MECHANISM, message: "Unknown SCRAM mechanism" };
  }
  return null;
}

const DUPLICATE: ApiError = {
  code: ErrorCode.DUPLICATE_RESOURCE,
  message: "A user credential cannot be altered twice in the same request",
};

export const alterUserScramCredentials = defineApi({
  apiKey: 51,
  name: "AlterUserScramCredentials",
  minVersion: 0,
  maxVersion: 0,
  request: AlterUserScramCredentialsRequest,
  response: AlterUserScramCredentialsResponse,
  handler: async (req, ctx) => {
    // As Kafka: ALTER on the cluster, else every named user gets CLUSTER_AUTHORIZATION_FAILED.
    if (
      !ctx.services.authorizer.authorize(
        ctx,
        AclOperation.ALTER,
        ResourceType.CLUSTER,
        CLUSTER_NAME,
      )
    ) {
      return {
        throttleTimeMs: 0,
        results: [...req.deletions, ...req.upsertions].map((c) => ({
          user: c.name,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: null,
        })),
      };
    }
    const store = ctx.services.scramCredentials;
    const deletions = new Map<string, AlterUserScramCredentialsRequestScramCredentialDeletion>();
    const upserts = new Map<string, AlterUserScramCredentialsRequestScramCredentialUpsertion>();
    const errors = new Map<string, ApiError>();
    for (const d of req.deletions) {
      if (errors.has(d.name)) continue;
      if (deletions.delete(d.name)) {
        errors.set(d.name, DUPLICATE);
        continue;
      }
      const m = scramMechanismByType(d.mechanism);
      const e = validateNameAndMechanism(d.name, d.mechanism) ??
        (store.credential(d.name, m!) ? null : {
          code: ErrorCode.RESOURCE_NOT_FOUND,
          message: "Attempt to delete a user credential that does not exist",
        });
      if (e) errors.set(d.name, e);
      else deletions.set(d.name, d);
    }
    for (const u of req.upsertions) {
      if (errors.has(u.name)) continue;
      if (deletions.delete(u.name) || upserts.delete(u.name)) {
        errors.set(u.name, DUPLICATE);
        continue;
      }
      let e = validateNameAndMechanism(u.name, u.mechanism);
      const m = scramMechanismByType(u.mechanism);
      if (!e && u.iterations < m!.minIterations) {
        e = { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: "Too few iterations" };
      } else if (!e && u.iterations > SCRAM_MAX_ITERATIONS) {
        e = { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: "Too many iterations" };
      }
      if (e) errors.set(u.name, e);
      else upserts.set(u.name, u);
    }
    const changes: ScramCredentialChange[] = [];
    for (const d of deletions.values()) {
      changes.push({ op: "delete", user: d.name, mechanism: scramMechanismByType(d.mechanism)! });
    }
    for (const u of upserts.values()) {
      const m = scramMechanismByType(u.mechanism)!;
      // Copies: the request's bytes are views of a read buffer that is reused.
      const credential = await credentialFromSalted(
        m,
        u.salt.slice(),
        u.saltedPassword.slice(),
        u.iterations,
      );
      changes.push({ op: "upsert", user: u.name, mechanism: m, credential });
    }
    if (changes.length > 0) await store.alter(changes);
    const ok = (user: string): AlterUserScramCredentialsResult => ({
      user,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
    });
    const results: AlterUserScramCredentialsResult[] = [
      ...[...deletions.keys()].map(ok),
      ...[...upserts.keys()].map(ok),
      ...[...errors].map(([user, e]) => ({ user, errorCode: e.code, errorMessage: e.message })),
    ];
    return { throttleTimeMs: 0, results };
  },
});
