/**
 * `deno task tributary …` (or the installed `tributary` command): a command-line client for
 * any Kafka-protocol broker, built on src/client/. Exit codes: 0 success, 1 a failure the
 * broker or the input caused (printed with Kafka's error name), 2 a usage mistake.
 */
import { KafkaError } from "../../protocol/errors.ts";
import { ClientError } from "../client/errors.ts";
import { InputError, out, UsageError, VERSION } from "./args.ts";
import { clusterCommand } from "./cluster.ts";
import { consumeCommand } from "./consume.ts";
import { groupCommand } from "./group.ts";
import { hashPasswordCommand } from "./hash_password.ts";
import { produceCommand } from "./produce.ts";
import { topicCommand } from "./topic.ts";

export const MAIN_HELP = `Usage: tributary <command> [subcommand] [options]

Commands:
  topic    create | list | describe | delete | alter-config | add-partitions
  produce  write lines from stdin or --file as records
  consume  print records (assign mode or a consumer group)
  group    list | describe | reset-offsets | delete
  cluster  info
  hash-password  hash a password (stdin) for the broker's sasl.plain.users.file

Every command takes --bootstrap-server HOST:PORT (default localhost:9092), --help and
--version. Example:
  printf 'a\\nb\\n' | tributary produce --bootstrap-server localhost:9092 --topic t
  tributary consume --bootstrap-server localhost:9092 --topic t --from-beginning --max-messages 2
`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  topic: topicCommand,
  topics: topicCommand,
  produce: produceCommand,
  consume: consumeCommand,
  group: groupCommand,
  groups: groupCommand,
  cluster: clusterCommand,
  "hash-password": hashPasswordCommand,
};

export async function main(args: string[]): Promise<number> {
  if (args.includes("--version") || args[0] === "version") {
    await out(`tributary ${VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    await out(MAIN_HELP);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  try {
    if (!run) throw new UsageError(`unknown command '${command}'`);
    return await run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tributary: ${e.message}`);
      console.error(`Run 'tributary ${e.command ? e.command + " " : ""}--help' for usage.`);
      return 2;
    }
    if (e instanceof KafkaError || e instanceof ClientError || e instanceof InputError) {
      console.error(`Error: ${e.message}`);
      return 1;
    }
    // A reader that went away (`| head`) ends the command, as it does for other tools.
    if (e instanceof Deno.errors.BrokenPipe) return 0;
    console.error(`Error: unexpected failure: ${(e as Error)?.stack ?? e}`);
    return 1;
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  // Open connections or timers must not keep a finished command alive.
  Deno.exit(code);
}
