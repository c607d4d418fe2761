/**
 * Where OAUTHBEARER's signing keys come from (`sasl.oauthbearer.jwks.endpoint.url`), as Kafka's
 * RefreshingHttpsJwks / file JWKS: a `file:` URL is read at start and reread when the file
 * changes; an `https:` (or `http:`) URL is fetched on first use, again every
 * `sasl.oauthbearer.jwks.endpoint.refresh.ms`, and at once (at most every
 * `sasl.oauthbearer.jwks.endpoint.retry.backoff.ms`) when a token names a key id it does not
 * have, so rotated keys are picked up. A failed refresh keeps the keys last read.
 */
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { log } from "../../log.ts";
import { type Jwks, parseJwks } from "./jwt.ts";

export interface JwksSource {
  /** The keys, refreshed first if `kid` is not among them (and a refresh is allowed). */
  keys(kid?: string): Promise<Jwks>;
}

export interface JwksSourceOptions {
  refreshMs?: number;
  retryBackoffMs?: number;
  now?: () => number;
}

/** The JWKS at `url`; a `file:` URL that cannot be read is an error here, at start. */
export function jwksSource(url: string, o: JwksSourceOptions = {}): JwksSource {
  if (url.startsWith("file:")) return new FileJwks(fileURLToPath(url));
  if (url.startsWith("https:") || url.startsWith("http:")) return new HttpJwks(url, o);
  throw new Error(`'${url}' is not a file:, https: or http: URL`);
}

class FileJwks implements JwksSource {
  private jwks: Jwks;
  private seen = "";

  constructor(private readonly path: string) {
    this.jwks = parseJwks(readFileSync(path, "utf8"));
    this.seen = this.stamp();
  }

  private stamp(): string {
    try {
      const s = statSync(this.path);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return "";
    }
  }

  keys(): Promise<Jwks> {
    const stamp = this.stamp();
    if (stamp !== this.seen) {
      this.seen = stamp;
      try {
        this.jwks = parseJwks(readFileSync(this.path, "utf8"));
      } catch (e) {
        // A JWKS being rewritten must not lock every client out: the last good keys stay.
        log.warn(`JWKS ${this.path} not reloaded: ${(e as Error).message}`);
      }
    }
    return Promise.resolve(this.jwks);
  }
}

class HttpJwks implements JwksSource {
  private jwks: Jwks = { keys: [] };
  private fetchedAt = -Infinity;
  private inFlight: Promise<void> | null = null;
  private readonly refreshMs: number;
  private readonly backoffMs: number;
  private readonly now: () => number;

  constructor(private readonly url: string, o: JwksSourceOptions) {
    this.refreshMs = o.refreshMs ?? 3600000;
    this.backoffMs = o.retryBackoffMs ?? 100;
    this.now = o.now ?? Date.now;
  }

  async keys(kid?: string): Promise<Jwks> {
    const age = this.now() - this.fetchedAt;
    const unknownKid = kid !== undefined && !this.jwks.keys.some((k) => k.kid === kid);
    if (age >= this.refreshMs || (unknownKid && age >= this.backoffMs)) await this.refresh();
    return this.jwks;
  }

  private refresh(): Promise<void> {
    this.inFlight ??= (async () => {
      try {
        const r = await fetch(this.url, { headers: { accept: "application/json" } });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        this.jwks = parseJwks(await r.text());
      } catch (e) {
        log.warn(`JWKS ${this.url} not fetched: ${(e as Error).message}`);
      } finally {
        // Failures wait out the backoff too, so a down endpoint is not hammered per login.
        this.fetchedAt = this.now();
        this.inFlight = null;
      }
    })();
    return this.inFlight;
  }
}
