/**
 * A small S3 client: PUT (with Content-MD5, so the store itself verifies the bytes), ranged
 * GET, HEAD, DELETE, ListObjectsV2 and CreateBucket, over the runtime's fetch.
 *
 * Requests are signed with AWS Signature V4 by `aws4fetch` (npm): one dependency-free file on
 * top of WebCrypto and fetch, both native in Deno, with no WebAssembly and no Node stream or
 * fs shims. The AWS SDK (@aws-sdk/client-s3) would bring hundreds of modules and Node-specific
 * HTTP handlers for the five calls needed here. aws4fetch's own retry loop is switched off:
 * the RemoteLogManager retries with its own backoff, and a request never waits longer than
 * `timeoutMs`.
 *
 * Path-style URLs (`<endpoint>/<bucket>/<key>`) are used with a custom endpoint (MinIO, s3rver,
 * Ceph, ...); without one, AWS's virtual-hosted style for the region.
 */
import { AwsClient } from "aws4fetch";
import { md5Base64 } from "./remote_storage.ts";

export interface S3ClientOptions {
  bucket: string;
  /** e.g. http://127.0.0.1:9000; default https://s3.<region>.amazonaws.com. */
  endpoint?: string;
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "S3Error";
  }
}

function xmlText(s: string): string {
  return s.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'").replaceAll("&amp;", "&");
}

function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

export class S3Client {
  private readonly aws: AwsClient;
  private readonly base: string;
  readonly bucket: string;
  private readonly timeoutMs: number;

  constructor(opts: S3ClientOptions) {
    const region = opts.region || "us-east-1";
    this.bucket = opts.bucket;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.aws = new AwsClient({
      accessKeyId: opts.accessKeyId,
      secretAccessKey: opts.secretAccessKey,
      sessionToken: opts.sessionToken,
      service: "s3",
      region,
      retries: 0,
    });
    this.base = opts.endpoint
      ? `${opts.endpoint.replace(/\/+$/, "")}/${opts.bucket}`
      : `https://${opts.bucket}.s3.${region}.amazonaws.com`;
  }

  private async request(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: Uint8Array; query?: string } = {},
  ): Promise<Response> {
    const url = `${this.base}${path ? "/" + encodeKey(path) : ""}${init.query ?? ""}`;
    const signed = await this.aws.sign(url, {
      method,
      headers: init.headers,
      body: init.body as BodyInit | undefined,
    });
    return await fetch(signed, { signal: AbortSignal.timeout(this.timeoutMs) });
  }

  private async fail(res: Response, what: string): Promise<never> {
    const text = await res.text().catch(() => "");
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? String(res.status);
    const msg = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? res.statusText;
    throw new S3Error(res.status, code, `${what}: ${res.status} ${code} ${xmlText(msg)}`);
  }

  /** Creates the bucket (no error if this account already owns it). */
  async createBucket(): Promise<void> {
    const res = await this.request("PUT", "");
    if (res.ok) {
      await res.body?.cancel();
      return;
    }
    const text = await res.text();
    if (/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(text)) return;
    throw new S3Error(res.status, "CreateBucket", `create bucket ${this.bucket}: ${text}`);
  }

  /** Stores an object; the store rejects it if the bytes do not match their Content-MD5. */
  async put(key: string, body: Uint8Array, md5?: string): Promise<string> {
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
      "content-md5": md5Base64(body),
    };
    if (md5) headers["x-amz-meta-md5"] = md5;
    const res = await this.request("PUT", key, { headers, body });
    if (!res.ok) return this.fail(res, `PUT ${key}`);
    await res.body?.cancel();
    return (res.headers.get("etag") ?? "").replaceAll('"', "");
  }

  /** The object's bytes [start, end) (whole object by default), or null if it does not exist. */
  async get(key: string, start?: number, end?: number): Promise<Uint8Array | null> {
    const headers: Record<string, string> = {};
    if (start !== undefined) {
      if (end !== undefined && end <= start) return new Uint8Array(0);
      headers.range = `bytes=${start}-${end !== undefined ? end - 1 : ""}`;
    }
    const res = await this.request("GET", key, { headers });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (res.status === 416) {
      await res.body?.cancel();
      return new Uint8Array(0);
    }
    if (!res.ok) return this.fail(res, `GET ${key}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Size, ETag and user metadata of an object, or null if it does not exist. */
  async head(
    key: string,
  ): Promise<{ size: number; etag: string; meta: Record<string, string> } | null> {
    const res = await this.request("HEAD", key);
    await res.body?.cancel();
    if (res.status === 404) return null;
    if (!res.ok) throw new S3Error(res.status, String(res.status), `HEAD ${key}: ${res.status}`);
    const meta: Record<string, string> = {};
    for (const [k, v] of res.headers) {
      if (k.startsWith("x-amz-meta-")) meta[k.slice(11)] = v;
    }
    return {
      size: Number(res.headers.get("content-length") ?? -1),
      etag: (res.headers.get("etag") ?? "").replaceAll('"', ""),
      meta,
    };
  }

  /** Deletes an object (S3 answers 204 whether or not it existed). */
  async delete(key: string): Promise<void> {
    const res = await this.request("DELETE", key);
    if (!res.ok && res.status !== 404) return this.fail(res, `DELETE ${key}`);
    await res.body?.cancel();
  }

  /** Every key under `prefix` (ListObjectsV2, following continuation tokens). */
  async list(prefix: string): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    let token: string | undefined;
    for (;;) {
      let query = `?list-type=2&prefix=${encodeURIComponent(prefix)}`;
      if (token) query += `&continuation-token=${encodeURIComponent(token)}`;
      const res = await this.request("GET", "", { query });
      if (!res.ok) return this.fail(res, `LIST ${prefix}`);
      const xml = await res.text();
      for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = /<Key>([^<]*)<\/Key>/.exec(m[1])?.[1];
        const size = Number(/<Size>(\d+)<\/Size>/.exec(m[1])?.[1] ?? 0);
        if (key !== undefined) out.push({ key: xmlText(key), size });
      }
      const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
      token = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
      if (!truncated || !token) return out;
      token = xmlText(token);
    }
  }
}
