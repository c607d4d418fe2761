/**
 * PeerLink on its own, over a MessageChannel in one thread: request and response both
 * ways, buffers handed over rather than copied, errors keeping their Kafka code, closing
 * (waiting calls fail retriably), the ready gate, and batching of one turn's messages.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { PeerLink, type PeerMethod, Transfer } from "../../src/workers/peer_link.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Two linked ends; `errors` collects what each side reports, `posts` counts messages sent,
 * `arrived` those delivered to the right end.
 */
function pair(
  left: Record<string, PeerMethod> = {},
  right: Record<string, PeerMethod> = {},
  rightReady?: Promise<void>,
) {
  const ch = new MessageChannel();
  const errors: string[] = [];
  let posts = 0;
  let arrived = 0;
  ch.port2.addEventListener("message", () => arrived++);
  const counting = (port: MessagePort) => {
    const post = port.postMessage.bind(port);
    port.postMessage = ((m: unknown, t: Transferable[]) => {
      posts++;
      post(m, t);
    }) as MessagePort["postMessage"];
    return port;
  };
  const a = new PeerLink(1, counting(ch.port1), new Map(Object.entries(left)), (m) => {
    errors.push(`a: ${m}`);
  });
  const b = new PeerLink(0, counting(ch.port2), new Map(Object.entries(right)), (m) => {
    errors.push(`b: ${m}`);
  }, rightReady);
  return {
    a,
    b,
    errors,
    posts: () => posts,
    arrived: () => arrived,
    close() {
      a.close("test over");
      b.close("test over");
    },
  };
}

const isKafka = (code: number) => (e: unknown) => e instanceof KafkaError && e.code === code;

Deno.test("peer link: a call is answered, both ways, with cloned arguments", async () => {
  const p = pair(
    { hello: (args: { name: string }) => `hello ${args.name}` },
    { sum: (args: number[]) => args.reduce((x, y) => x + y, 0) },
  );
  try {
    const args = [1, 2, 3];
    assert.equal(await p.a.call("sum", args), 6);
    assert.equal(await p.b.call("hello", { name: "left" }), "hello left");
    // Structured clone: an object arrives as a copy with nested values intact.
    const echo = pair({}, { echo: (x: unknown) => x });
    try {
      const sent = { n: 1n, m: new Map([["k", [1, 2]]]), d: new Date(0) };
      const got = await echo.a.call<typeof sent>("echo", sent);
      assert.notEqual(got, sent);
      assert.deepEqual(got, sent);
    } finally {
      echo.close();
    }
    assert.deepEqual(p.errors, []);
  } finally {
    p.close();
  }
});

Deno.test("peer link: calls of one turn leave as one message; replies are matched by id", async () => {
  const p = pair({}, {
    slowFirst: async (x: number) => {
      if (x === 0) await new Promise((r) => setTimeout(r, 20));
      return x * 10;
    },
  });
  try {
    const before = p.posts();
    const calls = [0, 1, 2, 3].map((x) => p.a.call<number>("slowFirst", x));
    // One call message for the four; answers come back to the right callers even though
    // the first finishes last.
    assert.deepEqual(await Promise.all(calls), [0, 10, 20, 30]);
    const callMessages = 1;
    const replyMessages = p.posts() - before - callMessages;
    assert.ok(replyMessages >= 1 && replyMessages <= 2, `${replyMessages} reply messages`);
  } finally {
    p.close();
  }
});

Deno.test("peer link: transferred buffers change hands without a copy", async () => {
  let served: Uint8Array | undefined;
  let kept: ArrayBuffer | undefined;
  const p = pair({}, {
    take: (u: Uint8Array) => {
      served = u;
      return u.byteLength;
    },
    give: (n: number) => {
      const out = new Uint8Array(n).fill(7);
      kept = out.buffer;
      return new Transfer(out, [out.buffer]);
    },
  });
  try {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    assert.equal(await p.a.call("take", bytes, [bytes.buffer]), 4);
    assert.equal(bytes.byteLength, 0, "the caller's buffer is detached");
    assert.deepEqual([...served!], [1, 2, 3, 4]);

    const got = await p.a.call<Uint8Array>("give", 3);
    assert.deepEqual([...got], [7, 7, 7]);
    assert.equal(kept!.byteLength, 0, "the served side's buffer is detached");
  } finally {
    p.close();
  }
});

Deno.test("peer link: failures keep their Kafka code; others are reported", async () => {
  const p = pair({}, {
    fenced: () => {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, "fenced");
    },
    broken: () => Promise.reject(new Error("disk on fire")),
  });
  try {
    await assert.rejects(p.a.call("fenced", null), (e) => {
      assert.ok(e instanceof KafkaError);
      assert.equal(e.code, ErrorCode.INVALID_PRODUCER_EPOCH);
      assert.match(e.message, /fenced/);
      return true;
    });
    await assert.rejects(p.a.call("broken", null), (e) => {
      assert.ok(isKafka(ErrorCode.UNKNOWN_SERVER_ERROR)(e));
      assert.match((e as Error).message, /disk on fire/);
      return true;
    });
    await assert.rejects(p.a.call("missing", null), isKafka(ErrorCode.UNKNOWN_SERVER_ERROR));
    // A Kafka error is an answer, not a fault; the other two are logged on the served side.
    assert.equal(p.errors.length, 2, p.errors.join("\n"));
    assert.match(p.errors[0], /^b: call broken from worker 0 failed: disk on fire/);
    assert.match(p.errors[1], /^b: call missing .*no method missing/);
  } finally {
    p.close();
  }
});

Deno.test("peer link: a message that cannot be cloned fails its call", async () => {
  const p = pair({}, { echo: (x: unknown) => x });
  try {
    await assert.rejects(p.a.call("echo", { f: () => 1 }));
    assert.equal(p.errors.length, 1);
    assert.match(p.errors[0], /^a: message to worker 1 failed/);
    // The link still works afterwards.
    assert.equal(await p.a.call("echo", 5), 5);
  } finally {
    p.close();
  }
});

Deno.test("peer link: calls are served only once the peer is ready", async () => {
  let open!: () => void;
  const ready = new Promise<void>((r) => open = r);
  let served = 0;
  const p = pair({}, {
    work: () => ++served,
  }, ready);
  try {
    const call = p.a.call<number>("work", null);
    let answered = false;
    call.then(() => answered = true);
    await waitFor("the call to arrive", () => p.arrived() > 0, { intervalMs: 1 });
    // The call has arrived and waits for the gate.
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(served, 0);
    assert.equal(answered, false);
    open();
    assert.equal(await call, 1);
  } finally {
    p.close();
  }
});

Deno.test("peer link: closing fails waiting and later calls retriably", async () => {
  let release!: () => void;
  const p = pair({}, {
    hang: () => new Promise<void>((r) => release = r),
  });
  try {
    const waiting = p.a.call("hang", null);
    await waitFor("the call to be served", () => release !== undefined, { intervalMs: 1 });
    p.a.close("worker 1 died");
    await assert.rejects(waiting, (e) => {
      assert.ok(isKafka(ErrorCode.NOT_LEADER_OR_FOLLOWER)(e));
      assert.match((e as Error).message, /worker 1 died/);
      return true;
    });
    await assert.rejects(p.a.call("hang", null), isKafka(ErrorCode.NOT_LEADER_OR_FOLLOWER));
    // The served side finishing after the close has nowhere to answer, and no error.
    p.b.close("peer closed");
    release();
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(p.errors, []);
  } finally {
    p.close();
  }
});
