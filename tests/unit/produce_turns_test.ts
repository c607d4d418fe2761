import assert from "node:assert/strict";
import { ProduceTurns } from "../../src/produce_turns.ts";

Deno.test("ProduceTurns: frames within a turn's bytes go at once, the rest in later turns in arrival order", async () => {
  const turns = new ProduceTurns(1000);
  assert.equal(turns.admit(600), null);
  assert.equal(turns.admit(400), null); // exactly the budget
  const order: string[] = [];
  const a = turns.admit(1);
  const b = turns.admit(900);
  const c = turns.admit(200);
  assert.ok(a instanceof Promise && b instanceof Promise && c instanceof Promise);
  assert.equal(turns.waiting, 3);
  // Nothing waiting is let through within the same turn, even when it would fit later.
  await Promise.resolve();
  assert.equal(turns.waiting, 3);
  a.then(() => order.push("a"));
  b.then(() => order.push("b"));
  c.then(() => order.push("c"));
  // Next turn: a (1) and b (900) fit in 1000; c does not and waits one more turn.
  await a;
  await b;
  assert.deepEqual(order, ["a", "b"]);
  assert.equal(turns.waiting, 1);
  await c;
  assert.deepEqual(order, ["a", "b", "c"]);
  assert.equal(turns.waiting, 0);
});

Deno.test("ProduceTurns: a frame larger than a turn's bytes still goes, alone in its turn", async () => {
  const turns = new ProduceTurns(100);
  assert.equal(turns.admit(5000), null);
  const next = turns.admit(10);
  assert.ok(next instanceof Promise);
  await next;
  // A new turn began with the small frame: another small one fits in it.
  assert.equal(turns.admit(10), null);
  // Once waiters are queued, a newcomer waits behind them even if it would fit.
  const big = turns.admit(5000);
  assert.ok(big instanceof Promise);
  const small = turns.admit(1);
  assert.ok(small instanceof Promise);
  await big;
  await small;
  assert.equal(turns.waiting, 0);
});

Deno.test("ProduceTurns: saturated while frames wait and for saturationMs after the last wait", async () => {
  const turns = new ProduceTurns(100, 50);
  assert.equal(turns.admit(100), null);
  assert.equal(turns.saturated, false); // nothing had to wait
  const next = turns.admit(1);
  assert.ok(next instanceof Promise);
  assert.equal(turns.saturated, true);
  await next;
  assert.equal(turns.waiting, 0);
  assert.equal(turns.saturated, true); // within 50 ms of the wait
  // …and not for good: it ends once saturationMs pass without a wait.
  await new Promise<void>((resolve) => {
    const poll = () => (turns.saturated ? setTimeout(poll, 5) : resolve());
    poll();
  });
  assert.equal(turns.admit(1), null);
});

Deno.test("ProduceTurns: one produce per connection under saturation only where appends run elsewhere", async () => {
  const turns = new ProduceTurns(10, 1000);
  assert.equal(turns.pipelineLimit(5), 5);
  assert.equal(turns.admit(10), null);
  const waiting = turns.admit(10);
  assert.ok(waiting instanceof Promise);
  assert.equal(turns.saturated, true);
  assert.equal(turns.pipelineLimit(5), 5, "on the main thread alone, appends run in their turn");
  turns.appendsElsewhere = true;
  assert.equal(turns.pipelineLimit(5), 1);
  await waiting;
});

/** Turns a flood of frames (each filling a turn) runs between a quiet socket's send and its read. */
async function turnsUntilQuietSocketRead(turns: ProduceTurns): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  listener.close();
  let run = 0;
  let stop = false;
  const flood = (async () => {
    while (!stop) {
      const wait = turns.admit(10);
      if (wait) {
        await wait;
        run++;
      }
    }
  })();
  try {
    const read = server.read(new Uint8Array(1));
    for (let i = 0; i < 5; i++) await turns.admit(10); // the flood is on; the socket quiet
    const before = run;
    await client.write(new Uint8Array([1]));
    assert.equal(await read, 1);
    return run - before;
  } finally {
    stop = true;
    await flood;
    client.close();
    server.close();
  }
}

Deno.test("ProduceTurns: under saturation a quiet socket's bytes are read within a turn or two, not after a long run of turns", async () => {
  const turns = await turnsUntilQuietSocketRead(new ProduceTurns(10, 1000, 0));
  assert.ok(turns <= 3, `read after ${turns} turns`);
});
