/**
 * The one `tributary` entry (what `deno task compile` builds into a single binary): the
 * broker and the command-line client behind one command.
 *
 *   tributary start [broker options]    run a broker (the options of `deno task start`)
 *   tributary topic|produce|consume|group|cluster …   the client (`deno task tributary`)
 *   tributary --version
 */
import { main as toolMain, MAIN_HELP } from "./tool/main.ts";

const BROKER_COMMANDS = new Set(["start", "broker", "serve"]);

/** The help text: the client commands and `start`. */
export const HELP: string = `${MAIN_HELP}
  start    run a broker: tributary start --dev --storage memory (see tributary start --help)
`;

/** Runs `tributary` with `args` (without the program name). */
export async function main(args: string[]): Promise<void> {
  if (BROKER_COMMANDS.has(args[0]) && !args.includes("--version")) {
    // Loaded only here: the client commands need none of the broker.
    const { main: brokerMain } = await import("./cli.ts");
    await brokerMain(args.slice(1));
    return;
  }
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    console.log(HELP);
    Deno.exit(args.length === 0 ? 2 : 0);
  }
  // Open connections or timers must not keep a finished command alive.
  Deno.exit(await toolMain(args));
}

if (import.meta.main) await main(Deno.args);
