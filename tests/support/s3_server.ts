/**
 * An S3-compatible server for tests: s3rver (pure JS, npm) in this process, on 127.0.0.1.
 * It can be stopped and started again on the same port and directory to simulate an outage.
 * s3rver accepts any credentials; the tests still sign every request (aws4fetch).
 */
import S3rver from "s3rver";

export const S3_ACCESS_KEY = "S3RVER";
export const S3_SECRET_KEY = "S3RVER";

export class S3TestServer {
  private server: S3rver | null = null;
  private constructor(
    readonly dir: string,
    public port: number,
    readonly bucket: string,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.server !== null;
  }

  static async start(bucket = "tiered", port = 0): Promise<S3TestServer> {
    const dir = await Deno.makeTempDir({ prefix: "s3rver-" });
    const s = new S3TestServer(dir, port, bucket);
    await s.resume();
    return s;
  }

  /** Starts (again) on the same port and directory. */
  async resume(): Promise<void> {
    if (this.server) return;
    const server = new S3rver({
      port: this.port,
      address: "127.0.0.1",
      silent: true,
      directory: this.dir,
      configureBuckets: [{ name: this.bucket }],
    });
    const addr = await server.run();
    this.port = addr.port;
    this.server = server;
  }

  /** Stops listening (connections are refused until resume()). */
  async pause(): Promise<void> {
    const s = this.server;
    this.server = null;
    await s?.close();
  }

  async stop(): Promise<void> {
    await this.pause();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Makes the broker (which reads AWS_* from the environment) use s3rver's credentials. */
export function useTestCredentials(): void {
  Deno.env.set("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY);
  Deno.env.set("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY);
}
