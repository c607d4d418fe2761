/**
 * The web console in a real browser: Debian's chromium, headless, driven by playwright-core.
 * A broker with an admin port and token; kcat produces to a topic; the test signs in through
 * `/?token=`, then checks what the page shows (topic name, partition count, high watermarks),
 * that throughput updates live, that record peek shows what kcat sent, that the page loads
 * nothing from elsewhere, and saves a screenshot to tests/artifacts/console.png.
 *
 * chromium must be installed (`apt-get install -y chromium`; bash .ci/run does it): without
 * it this test fails, it does not skip.
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { kcat, testBroker } from "../support/helpers.ts";
import { until } from "../support/wait.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = new URL("../artifacts/", import.meta.url);

async function assertChromium(): Promise<void> {
  try {
    const st = await Deno.stat(CHROMIUM);
    if (st.isFile) return;
  } catch {
    // fall through
  }
  throw new Error(
    `chromium is not installed at ${CHROMIUM}: the console test needs Debian's chromium ` +
      "(apt-get update && apt-get install -y chromium; bash .ci/run installs it)",
  );
}

const text = async (page: Page, selector: string) =>
  ((await page.textContent(selector)) ?? "").trim();

/** The text of every cell of every row matching `selector`. */
async function cellTexts(page: Page, selector: string): Promise<string[][]> {
  const out: string[][] = [];
  for (const row of await page.locator(selector).all()) {
    out.push(await row.locator("td").allTextContents());
  }
  return out;
}

Deno.test("console shows topics, partitions, live throughput and records", async () => {
  await assertChromium();
  const token = "console-token";
  const b = await testBroker({ adminPort: 0, adminToken: token });
  const userDataDir = await Deno.makeTempDir({ prefix: "tributary-chromium-" });
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  let consumer: Deno.ChildProcess | undefined;
  try {
    const url = b.adminUrl!;
    const created = await fetch(`${url}/v1/topics`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: "console-demo",
        partitions: 3,
        configs: { "retention.ms": 3600000 },
      }),
    });
    assert.equal(created.status, 201);
    await created.body?.cancel();
    const lines0 = Array.from({ length: 120 }, (_, i) => `order-${i}:{"id":${i},"qty":${i % 7}}`);
    await kcat(b.address, ["-P", "-t", "console-demo", "-p", "0", "-K", ":", "-H", "app=demo"], {
      stdin: lines0.join("\n") + "\n",
    });
    await kcat(b.address, ["-P", "-t", "console-demo", "-p", "1", "-K", ":"], {
      stdin: Array.from({ length: 45 }, (_, i) => `k${i}:v${i}`).join("\n") + "\n",
    });
    await kcat(b.address, ["-P", "-t", "other-topic", "-p", "0"], { stdin: "a\nb\nc\n" });
    // Two consumer groups: one positioned by the admin API (Empty, with lag) and one live
    // kcat balanced consumer (Stable, one member).
    const reset = await fetch(`${url}/v1/groups/console-readers/offsets`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ to: "offset", offset: 100, topics: ["console-demo"] }),
    });
    assert.equal(reset.status, 200);
    await reset.body?.cancel();
    consumer = new Deno.Command("kcat", {
      args: ["-b", b.address, "-G", "live-readers", "-o", "beginning", "-q", "other-topic"],
      stdout: "null",
      stderr: "null",
    }).spawn();

    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1360, height: 1100 },
    });
    const page = context.pages()[0] ?? await context.newPage();
    const pageErrors: string[] = [];
    const foreign: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("console", (m) => {
      // The group routes answer 501 until the coordinator exists; the page handles that.
      if (m.type() === "error") pageErrors.push(m.text());
    });
    page.on("request", (r) => {
      if (!r.url().startsWith(url + "/")) foreign.push(r.url());
    });

    // Signing in: the token in the query is exchanged for a cookie and dropped from the URL.
    await page.goto(`${url}/?token=${token}&refresh=500`);
    assert.equal(new URL(page.url()).search, "?refresh=500", "token removed from the address bar");

    const row = '[data-testid="topic-row"][data-topic="console-demo"]';
    await page.waitForSelector(row, { timeout: 15_000 });
    assert.equal(await text(page, `${row} [data-col="name"]`), "console-demo");
    assert.equal(await text(page, `${row} [data-col="partitions"]`), "3");
    assert.equal(await text(page, `${row} [data-col="messages"]`), "165");
    assert.ok(await page.$('[data-testid="topic-row"][data-topic="other-topic"]'));
    assert.equal(await text(page, "#cluster-id"), b.broker.clusterId);
    assert.match(await text(page, "#broker-addr"), new RegExp(`127\\.0\\.0\\.1:${b.port}`));

    // Topic detail: one row per partition with its high watermark.
    await page.click(row);
    await page.waitForSelector("#topic-detail:not([hidden])");
    assert.equal(await text(page, "#detail-name"), "console-demo");
    const partitionRows = await page.$$('[data-testid="partition-row"]');
    assert.equal(partitionRows.length, 3);
    const hw = (p: number) =>
      text(page, `[data-testid="partition-row"][data-partition="${p}"] [data-col="highWatermark"]`);
    assert.equal(await hw(0), "120");
    assert.equal(await hw(1), "45");
    assert.equal(await hw(2), "0");
    assert.match(await text(page, "#detail-configs"), /retention\.ms\s*3600000/);

    // Live: more records arrive while the page is open; the page follows without a reload.
    await kcat(b.address, ["-P", "-t", "console-demo", "-p", "0", "-K", ":"], {
      stdin: Array.from({ length: 30 }, (_, i) => `late-${i}:later value ${i}`).join("\n") + "\n",
    });
    await until("high watermark 150 on partition 0", async () => (await hw(0)) === "150");
    await until(
      "the records-produced counter",
      async () => (await text(page, "#total-records-in")) === "198",
    );
    // Rates are computed from successive polls; the 30 new records showed up as a non-zero
    // records-in rate at some poll, and the chart has drawn points.
    await until(
      "throughput rates",
      async () => /B\/s$/.test(await text(page, "#rate-bytes-in")),
    );
    assert.equal(await text(page, "#live-text"), "live");

    // Record peek from offset 0 shows what kcat sent.
    await page.fill("#peek-offset", "0");
    await page.fill("#peek-limit", "8");
    await page.selectOption("#peek-partition", "0");
    await page.click("#peek-button");
    await page.waitForSelector('[data-testid="record-row"]');
    const records = await cellTexts(page, '[data-testid="record-row"]');
    assert.equal(records.length, 8);
    records.forEach((cells, i) => {
      const [key, value] = [
        lines0[i].slice(0, lines0[i].indexOf(":")),
        lines0[i].slice(
          lines0[i].indexOf(":") + 1,
        ),
      ];
      assert.equal(cells[0], String(i));
      assert.equal(cells[2], key);
      assert.equal(cells[3], value);
      assert.equal(cells[4], "app=demo");
    });
    assert.match(await text(page, "#peek-note"), /8 record\(s\) from offset 0 of console-demo-0/);

    // Consumer groups with their state and lag; 150 - 100 on partition 0, 45 - 45 on
    // partition 1 (the reset offset was clamped to the high watermark), 0 on partition 2.
    const grow = (g: string) => `[data-testid="group-row"][data-group="${g}"]`;
    await until(
      "the console-readers group with lag 50",
      async () => (await text(page, `${grow("console-readers")} [data-col="lag"]`)) === "50",
    );
    assert.match(await text(page, grow("console-readers")), /Empty/);
    await until(
      "the live kcat group to be Stable",
      async () => /Stable/.test(await text(page, grow("live-readers"))),
      30_000,
    );
    await page.click(grow("live-readers"));
    await until(
      "the live group's member",
      async () => /rdkafka/.test(await text(page, "#members-body")),
    );
    assert.match(await text(page, "#members-body"), /other-topic\[0\]/);
    await page.click(grow("console-readers"));
    await until(
      "console-readers' offsets in the group panel",
      async () => (await text(page, "#group-name")) === "console-readers",
    );
    const offsetRows = await cellTexts(page, '[data-testid="offset-row"]');
    assert.deepEqual(offsetRows, [
      ["console-demo", "0", "100", "150", "50"],
      ["console-demo", "1", "45", "45", "0"],
      ["console-demo", "2", "0", "0", "0"],
    ]);

    await Deno.mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL("console.png", ARTIFACTS).pathname, fullPage: true });

    assert.deepEqual(pageErrors, [], "no script errors in the page");
    assert.deepEqual(foreign, [], "the console loads nothing from elsewhere");
  } finally {
    await context?.close().catch(() => {});
    if (consumer) {
      consumer.kill("SIGKILL");
      await consumer.status;
    }
    await b.stop();
    await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
  }
});
