/**
 * `tributary cluster info`: cluster id, controller, brokers and the ApiVersions the bootstrap
 * broker advertises next to the versions this tool implements (and so uses) for each API.
 */
import * as messages from "../../protocol/messages/mod.ts";
import { type MessageSchema, parseVersions } from "../../protocol/schema.ts";
import { describeCluster } from "../client/admin.ts";
import { hostPort } from "../client/client.ts";
import { BOOTSTRAP_HELP, clientFor, flag, out, parse, table, UsageError } from "./args.ts";

export const CLUSTER_HELP = `Usage: tributary cluster info [options]

  info    cluster id, controller, brokers and the broker's ApiVersions

${BOOTSTRAP_HELP}
`;

/** Request schemas by api key, for names and this client's version ranges. */
const REQUESTS = new Map<number, MessageSchema>(
  (Object.values(messages) as MessageSchema[])
    .filter((s) => s.type === "request" && s.apiKey !== undefined)
    .map((s) => [s.apiKey!, s]),
);

export async function clusterCommand(args: string[]): Promise<number> {
  const p = parse(args, {}, "cluster");
  if (flag(p, "help")) {
    await out(CLUSTER_HELP);
    return 0;
  }
  const sub = p.positionals[0];
  if (sub !== "info") {
    throw new UsageError(sub ? `unknown cluster subcommand '${sub}'` : "cluster info", "cluster");
  }
  const client = clientFor(p);
  try {
    const c = await describeCluster(client);
    const conn = await client.any();
    let text = `Cluster ID: ${c.clusterId ?? "-"}\nController: ${c.controllerId}\nBrokers:\n`;
    for (const b of c.brokers.sort((a, b) => a.nodeId - b.nodeId)) {
      text += `  ${b.nodeId}\t${hostPort(b.host, b.port)}${b.rack ? `\track ${b.rack}` : ""}\n`;
    }
    text += `ApiVersions of ${conn.address}:\n`;
    const rows = [...conn.apis].sort((a, b) => a[0] - b[0]).map(([key, r]) => {
      const schema = REQUESTS.get(key);
      const [lo, hi] = schema ? parseVersions(schema.validVersions) : [0, -1];
      const use = schema ? Math.min(hi, r.maxVersion) : -1;
      return [
        schema ? schema.name.replace(/Request$/, "") : `Unknown(${key})`,
        key,
        `${r.minVersion}-${r.maxVersion}`,
        schema ? `${lo}-${hi}` : "-",
        use >= Math.max(lo, r.minVersion) ? use : "-",
      ];
    });
    text += table(["API", "KEY", "BROKER", "CLIENT", "USABLE"], rows).split("\n")
      .map((l) => (l ? "  " + l : l)).join("\n");
    await out(text);
    return 0;
  } finally {
    client.close();
  }
}
