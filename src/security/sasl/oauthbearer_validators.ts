/**
 * The two ways OAUTHBEARER tokens are checked, as Kafka's two server callback handlers:
 *  - unsecured (OAuthBearerUnsecuredValidatorCallbackHandler, development only): `alg: none`
 *    with an empty signature; the principal claim (`unsecuredValidatorPrincipalClaimName`,
 *    default `sub`), `exp` required, `iat` optional, a required scope list
 *    (`unsecuredValidatorRequiredScope`) and clock skew
 *    (`unsecuredValidatorAllowableClockSkewMs`) from the JAAS options;
 *  - JWKS (OAuthBearerValidatorCallbackHandler): a signed token whose key is in the JWKS at
 *    `sasl.oauthbearer.jwks.endpoint.url` (a `file:` or `https:` URL, see jwks_source.ts), with
 *    `exp` required, `sasl.oauthbearer.expected.audience` / `.expected.issuer` when set, the
 *    principal in `sasl.oauthbearer.sub.claim.name`, scopes in
 *    `sasl.oauthbearer.scope.claim.name`, and `sasl.oauthbearer.clock.skew.seconds` of slack.
 * Every failure is `invalid_token` to the client, except a missing scope
 * (`insufficient_scope`), as in Kafka.
 */
import { type JwksSource, jwksSource } from "./jwks_source.ts";
import { decodeJwt, JwtError, verifySignature } from "./jwt.ts";
import type { OAuthBearerValidator, OAuthValidation } from "./oauthbearer.ts";

export interface UnsecuredValidatorOptions {
  principalClaimName?: string;
  scopeClaimName?: string;
  requiredScope?: string[];
  allowableClockSkewMs?: number;
  now?: () => number;
}

const invalid = (reason: string): OAuthValidation => ({
  ok: false,
  status: "invalid_token",
  reason,
});

/** The scopes of a claim: a space-separated string or a list of strings. */
function scopesOf(v: unknown): string[] | null {
  if (v === undefined) return [];
  if (typeof v === "string") return v.split(" ").filter((s) => s !== "");
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as string[];
  return null;
}

/** Numeric-date checks common to both validators; a string is the failure. */
function checkTimes(
  claims: Record<string, unknown>,
  now: number,
  skewMs: number,
): { expMs: number } | string {
  const exp = claims.exp;
  if (typeof exp !== "number" || !Number.isFinite(exp)) return "the token has no numeric 'exp'";
  const iat = claims.iat;
  if (iat !== undefined && (typeof iat !== "number" || !Number.isFinite(iat))) {
    return "the token's 'iat' is not a number";
  }
  const expMs = Math.round(exp * 1000);
  if (typeof iat === "number" && expMs < iat * 1000) {
    return "the token's 'exp' is before its 'iat'";
  }
  if (now - skewMs >= expMs) {
    return `the token expired: exp ${exp} s is on or before ${now} ms minus ${skewMs} ms of skew`;
  }
  if (typeof iat === "number" && iat * 1000 > now + skewMs) {
    return `the token's 'iat' ${iat} s is after ${now} ms plus ${skewMs} ms of skew`;
  }
  return { expMs };
}

export class UnsecuredJwsValidator implements OAuthBearerValidator {
  private readonly principalClaim: string;
  private readonly scopeClaim: string;
  private readonly requiredScope: string[];
  private readonly skewMs: number;
  private readonly now: () => number;

  constructor(o: UnsecuredValidatorOptions = {}) {
    this.principalClaim = o.principalClaimName ?? "sub";
    this.scopeClaim = o.scopeClaimName ?? "scope";
    this.requiredScope = o.requiredScope ?? [];
    this.skewMs = o.allowableClockSkewMs ?? 0;
    this.now = o.now ?? Date.now;
  }

  /** From the OAuthBearerLoginModule JAAS options, under Kafka's option names. */
  static fromJaasOptions(options: Map<string, string>): UnsecuredJwsValidator {
    const skew = options.get("unsecuredValidatorAllowableClockSkewMs");
    if (skew !== undefined && !/^[0-9]+$/.test(skew)) {
      throw new Error(`unsecuredValidatorAllowableClockSkewMs '${skew}' is not a number of ms`);
    }
    return new UnsecuredJwsValidator({
      principalClaimName: options.get("unsecuredValidatorPrincipalClaimName"),
      scopeClaimName: options.get("unsecuredValidatorScopeClaimName"),
      requiredScope: options.get("unsecuredValidatorRequiredScope")?.split(/[ ,]+/).filter((s) =>
        s !== ""
      ),
      allowableClockSkewMs: skew === undefined ? undefined : Number(skew),
    });
  }

  validate(token: string): Promise<OAuthValidation> {
    return Promise.resolve(this.check(token));
  }

  private check(token: string): OAuthValidation {
    let jwt;
    try {
      jwt = decodeJwt(token);
    } catch (e) {
      return invalid(e instanceof JwtError ? e.message : "malformed token");
    }
    if (jwt.header.alg !== "none") {
      return invalid(`an unsecured JWS has alg 'none', not '${jwt.header.alg}'`);
    }
    if (!jwt.unsigned) return invalid("an unsecured JWS has an empty signature");
    const principal = jwt.claims[this.principalClaim];
    if (typeof principal !== "string" || principal.trim() === "") {
      return invalid(`the token has no '${this.principalClaim}' claim`);
    }
    const times = checkTimes(jwt.claims, this.now(), this.skewMs);
    if (typeof times === "string") return invalid(times);
    const scope = scopesOf(jwt.claims[this.scopeClaim]);
    if (scope === null) return invalid(`the '${this.scopeClaim}' claim is not a scope list`);
    const missing = this.requiredScope.filter((s) => !scope.includes(s));
    if (missing.length > 0) {
      return {
        ok: false,
        status: "insufficient_scope",
        scope: this.requiredScope.join(" "),
        reason: `the token lacks the required scope ${missing.join(" ")}`,
      };
    }
    return { ok: true, principal, expiresAtMs: times.expMs, scope };
  }
}

export interface JwksValidatorOptions {
  /** `sasl.oauthbearer.jwks.endpoint.url`: a `file:` or `https:` URL (see jwks_source.ts). */
  jwksUrl: string;
  /** `sasl.oauthbearer.jwks.endpoint.refresh.ms`, `.retry.backoff.ms` (https only). */
  refreshMs?: number;
  retryBackoffMs?: number;
  expectedAudience?: string[];
  expectedIssuer?: string | null;
  subClaimName?: string;
  scopeClaimName?: string;
  clockSkewSeconds?: number;
  now?: () => number;
}

export class JwksValidator implements OAuthBearerValidator {
  private readonly source: JwksSource;
  private readonly now: () => number;

  constructor(private readonly o: JwksValidatorOptions) {
    this.now = o.now ?? Date.now;
    this.source = jwksSource(o.jwksUrl, {
      refreshMs: o.refreshMs,
      retryBackoffMs: o.retryBackoffMs,
      now: this.now,
    });
  }

  async validate(token: string): Promise<OAuthValidation> {
    let jwt;
    try {
      jwt = decodeJwt(token);
      if (jwt.header.alg === "none" || jwt.unsigned) return invalid("the token is not signed");
      const kid = typeof jwt.header.kid === "string" ? jwt.header.kid : undefined;
      if (!(await verifySignature(jwt, await this.source.keys(kid)))) {
        return invalid("bad signature");
      }
    } catch (e) {
      return invalid(e instanceof JwtError ? e.message : "malformed token");
    }
    const c = jwt.claims;
    const times = checkTimes(c, this.now(), (this.o.clockSkewSeconds ?? 30) * 1000);
    if (typeof times === "string") return invalid(times);
    const aud = this.o.expectedAudience ?? [];
    if (aud.length > 0) {
      const got = typeof c.aud === "string" ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
      if (!got.some((a) => aud.includes(a))) return invalid("the token's audience is not expected");
    }
    if (this.o.expectedIssuer && c.iss !== this.o.expectedIssuer) {
      return invalid("the token's issuer is not expected");
    }
    const subClaim = this.o.subClaimName ?? "sub";
    const principal = c[subClaim];
    if (typeof principal !== "string" || principal.trim() === "") {
      return invalid(`the token has no '${subClaim}' claim`);
    }
    const scopeClaim = this.o.scopeClaimName ?? "scope";
    const scope = scopesOf(c[scopeClaim]);
    if (scope === null) return invalid(`the '${scopeClaim}' claim is not a scope list`);
    return { ok: true, principal, expiresAtMs: times.expMs, scope };
  }
}
