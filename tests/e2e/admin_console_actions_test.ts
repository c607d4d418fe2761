/**
 * The web console's actions in a real browser (Debian's chromium, headless, playwright-core)
 * against a broker process with two Deno workers. Each action is clicked through the page and
 * its result checked through the Kafka protocol (kcat, confluent-kafka's AdminClient): a
 * topic created with its partitions and configs, a config altered and reset, a record
 * produced and read back exactly, a search finding exactly the matching records (with the
 * JSON pretty view), a group's offsets previewed, reset and resumed from by a consumer, the
 * lag chart following, the group deleted, the topic deleted. The first paint shows a loading
 * state. Saves tests/artifacts/console_actions.png.
 *
 * chromium must be installed (`apt-get install -y chromium`; bash .ci/run does it).
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { BrokerProcess, decoder, kcat, python } from "../support/helpers.ts";
import { until } from "../support/wait.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = new URL("../artifacts/", import.meta.url);
const TOKEN = "console-actions-token";

const text = async (page: Page, selector: string) =>
  ((await page.textContent(selector)) ?? "").trim();

/**
 * The cells of the rows matching `selector`, read in one evaluation: the console re-renders
 * its tables on every poll, and rows counted before a re-render and read after it would mix
 * two renders (say the old two rows filled with the new render's first two).
 */
function cellTexts(page: Page, selector: string): Promise<string[][]> {
  return page.$$eval(
    selector,
    (rows) =>
      rows.map((r) =>
        Array.from(
          r.querySelectorAll("td"),
          (td) => (td as { textContent: string | null }).textContent ?? "",
        )
      ),
  );
}

async function adminPort(p: BrokerProcess): Promise<number> {
  return await until("the admin listener", () => {
    const m = p.lines.map((l) => /admin API and console on http:\/\/[^:]+:(\d+)\//.exec(l))
      .find((x) => x);
    return Promise.resolve(m ? Number(m[1]) : undefined);
  });
}

/** A topic as a Kafka client sees it: partition count and its dynamic (topic) configs. */
async function describeTopic(address: string, topic: string) {
  const out = await python(
    `
import json, sys
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource
a = AdminClient({"bootstrap.servers": sys.argv[1]})
md = a.list_topics(timeout=10)
t = md.topics.get(sys.argv[2])
if t is None or t.error is not None:
    print(json.dumps(None)); sys.exit(0)
res = ConfigResource("topic", sys.argv[2])
entries = a.describe_configs([res])[res].result(timeout=10)
dyn = {k: e.value for k, e in entries.items() if e.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value}
print(json.dumps({"partitions": len(t.partitions), "configs": dyn}))
`,
    [address, topic],
  );
  return JSON.parse(out);
}

async function consumerGroups(address: string): Promise<string[]> {
  const out = await python(
    `
import json, sys
from confluent_kafka.admin import AdminClient
a = AdminClient({"bootstrap.servers": sys.argv[1]})
print(json.dumps(sorted(g.id for g in a.list_groups(timeout=10))))
`,
    [address],
  );
  return JSON.parse(out);
}

Deno.test(
  "console actions: topics, configs, produce, search, offsets reset, deletions",
  async () => {
    const st = await Deno.stat(CHROMIUM).catch(() => null);
    assert.ok(st?.isFile, `chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`);
    const dir = await Deno.makeTempDir({ prefix: "tributary-console-actions-" });
    const b = await BrokerProcess.start(dir, ["--admin-port", "0", "--admin-token", TOKEN]);
    const userDataDir = await Deno.makeTempDir({ prefix: "tributary-chromium-" });
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
    try {
      const url = `http://127.0.0.1:${await adminPort(b)}`;
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
      const expectedErrors: RegExp[] = [];
      const foreign: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(String(e)));
      page.on("console", (m) => {
        if (m.type() === "error") pageErrors.push(m.text());
      });
      // The browser logs a failed request without its URL or answer: keep both for the message.
      const failedResponses: string[] = [];
      page.on("response", async (r) => {
        if (r.status() < 400) return;
        const body = await r.text().catch(() => "");
        failedResponses.push(`${r.request().method()} ${r.url()} ${r.status()} ${body}`);
      });
      page.on("request", (r) => {
        if (!r.url().startsWith(url + "/")) foreign.push(r.url());
      });

      // ---- first paint: a loading state while the first poll is outstanding ----------------
      let release!: () => void;
      const held = new Promise<void>((r) => release = r);
      await page.route("**/v1/stats", async (route) => {
        await held;
        await route.continue();
      });
      await page.goto(`${url}/?token=${TOKEN}&refresh=500`);
      assert.equal(await text(page, "#live-text"), "loading");
      assert.equal(await text(page, "#topics-loading"), "Loading topics...");
      release();
      await until("the first poll", async () => (await text(page, "#live-text")) === "live");
      assert.equal(await page.$("#topics-loading"), null);

      // ---- create a topic with partitions and configs -----------------------------------------
      await page.fill("#new-topic-name", "shop");
      await page.fill("#new-topic-partitions", "3");
      await page.fill("#new-topic-configs", "retention.ms=7200000\ncleanup.policy=delete\n");
      await page.click("#create-topic");
      const row = '[data-testid="topic-row"][data-topic="shop"]';
      await page.waitForSelector(row);
      assert.equal(await text(page, "#create-topic-note"), "created shop with 3 partition(s)");
      // A refused action says why next to its form (and the browser logs the 409).
      await page.fill("#new-topic-name", "shop");
      await page.click("#create-topic");
      await until(
        "the refusal",
        async () =>
          (await text(page, "#create-topic-note")) === "create failed: topic 'shop' already exists",
      );
      expectedErrors.push(/status of 409/);
      await until("the shop panel", async () => (await text(page, "#detail-name")) === "shop");
      assert.deepEqual(await describeTopic(b.address, "shop"), {
        partitions: 3,
        configs: { "cleanup.policy": "delete", "retention.ms": "7200000" },
      });

      // ---- alter a config, reset another ------------------------------------------------------
      await page.fill("#config-key", "retention.ms");
      await page.fill("#config-value", "3600000");
      await page.click("#config-set");
      await until(
        "retention.ms=3600000 in the panel",
        async () => (await text(page, '[data-config="retention.ms"]')) === "3600000",
      );
      await page.click('[data-testid="config-reset"][data-key="cleanup.policy"]');
      await until(
        "cleanup.policy gone from the overrides",
        async () => (await page.$('[data-config="cleanup.policy"]')) === null,
      );
      assert.deepEqual(await describeTopic(b.address, "shop"), {
        partitions: 3,
        configs: { "retention.ms": "3600000" },
      });

      // ---- produce a record ----------------------------------------------------------------------
      const doc = '{"name":"Ada","tags":["x","y"],"n":1}';
      await page.selectOption("#produce-partition", "1");
      await page.fill("#produce-key", "user-42");
      await page.fill("#produce-value", doc);
      await page.fill("#produce-headers", "trace=abc\nsource=console");
      await page.click("#produce-button");
      await until(
        "the produce outcome",
        async () => (await text(page, "#produce-note")) === "produced to shop-1 at offset 0",
      );
      const readBack = decoder.decode(
        await kcat(b.address, [
          "-C",
          "-t",
          "shop",
          "-p",
          "1",
          "-o",
          "0",
          "-c",
          "1",
          "-e",
          "-q",
          "-f",
          "%p|%o|%k|%s|%h\\n",
        ]),
      );
      assert.equal(readBack, `1|0|user-42|${doc}|trace=abc,source=console\n`);

      // ---- search ----------------------------------------------------------------------------
      const lines = Array.from(
        { length: 40 },
        (_, i) => `user-${i}:{"id":${i},"city":"${["Oslo", "Rome", "Lima"][i % 3]}"}`,
      );
      await kcat(b.address, ["-P", "-t", "shop", "-p", "0", "-K", ":"], {
        stdin: lines.join("\n") + "\n",
      });
      await page.fill("#search-key", "user-1");
      await page.fill("#search-value", "Rome");
      await page.click("#search-button");
      await page.waitForSelector('[data-testid="search-row"]');
      // user-1, user-10..19 whose city is Rome (i % 3 == 1): 1, 10, 13, 16, 19.
      const found = await cellTexts(page, '[data-testid="search-row"]');
      assert.deepEqual(
        found.map((c) => [c[0], c[1], c[3], c[4]]),
        [1, 10, 13, 16, 19].map((i) => [
          "0",
          String(i),
          `user-${i}`,
          `{"id":${i},"city":"Rome"}`,
        ]),
      );
      assert.equal(
        await text(page, "#search-note"),
        "5 match(es) in 41 record(s) scanned, searched to the end",
      );
      // The produced record found by its value; its JSON shown pretty on a click.
      await page.fill("#search-key", "");
      await page.fill("#search-value", "Ada");
      await page.click("#search-button");
      await until(
        "the Ada record",
        async () => (await text(page, "#search-note")).startsWith("1 match(es)"),
      );
      const ada = '[data-testid="search-row"][data-partition="1"][data-offset="0"]';
      await page.click(`${ada} td.json`);
      assert.equal(
        await page.textContent(`${ada} pre.json`),
        JSON.stringify(JSON.parse(doc), null, 2),
      );
      // From a time: the record's own timestamp finds it, one millisecond later does not.
      const adaTime = Date.parse((await cellTexts(page, ada))[0][2]);
      await page.fill("#search-time", new Date(adaTime).toISOString());
      await page.click("#search-button");
      await until(
        "the search from the record's time",
        async () => (await text(page, "#search-note")).startsWith("1 match(es)"),
      );
      await page.fill("#search-time", String(adaTime + 1));
      await page.click("#search-button");
      await until(
        "the search from just after it",
        async () => (await text(page, "#search-note")).startsWith("0 match(es)"),
      );
      assert.equal(await page.locator('[data-testid="search-row"]').count(), 0);

      // ---- consumer group: consume, preview and execute a reset, resume --------------------------
      const consumed = decoder.decode(
        await kcat(b.address, [
          "-G",
          "shop-readers",
          "-o",
          "beginning",
          "-e",
          "-q",
          "-f",
          "%p:%o\n",
          "shop",
        ]),
      );
      assert.equal(consumed.trim().split("\n").length, 41);
      const grow = '[data-testid="group-row"][data-group="shop-readers"]';
      await until("shop-readers Empty with lag 0", async () => {
        const t = await text(page, grow);
        return /Empty/.test(t) && (await text(page, `${grow} [data-col="lag"]`)) === "0";
      });
      await page.click(grow);
      await until(
        "the group panel",
        async () => (await text(page, "#group-name")) === "shop-readers",
      );
      await page.selectOption("#reset-topic", "shop");
      const preview = async (to: string, time?: string) => {
        await page.selectOption("#reset-to", to);
        if (time !== undefined) await page.fill("#reset-time", time);
        await page.click("#reset-preview");
        await until(
          `the ${to} preview`,
          async () =>
            (await text(page, "#reset-note")).startsWith("preview of 3") &&
            await page.isEnabled("#reset-execute"),
        );
        return (await cellTexts(page, '[data-testid="reset-plan-row"]')).map((c) => c[3]);
      };
      assert.deepEqual(await preview("earliest"), ["0", "0", "0"]);
      assert.deepEqual(await preview("latest"), ["40", "1", "0"]);
      // A time after every record: the end of each log; time 0: the first record.
      assert.deepEqual(await preview("timestamp", "2999-01-01T00:00:00Z"), ["40", "1", "0"]);
      assert.deepEqual(await preview("timestamp", "0"), ["0", "0", "0"]);
      await page.selectOption("#reset-to", "offset");
      await page.fill("#reset-offset", "5");
      await page.click("#reset-preview");
      await page.waitForSelector('[data-testid="reset-plan-row"]');
      assert.deepEqual(await cellTexts(page, '[data-testid="reset-plan-row"]'), [
        ["shop", "0", "40", "5"],
        ["shop", "1", "1", "1"],
        ["shop", "2", "-", "0"], // kcat committed nothing there: it read nothing
      ]);
      assert.match(
        await text(page, "#reset-note"),
        /^preview of 3 partition\(s\): nothing changed/,
      );
      // A preview changes nothing.
      const before = await (await fetch(`${url}/v1/groups/shop-readers/offsets`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })).json();
      assert.deepEqual(before.offsets.map((o: any) => o.committedOffset), [40, 1]);
      await page.click("#reset-execute");
      await until(
        "the reset",
        async () => (await text(page, "#reset-note")) === "reset 3 partition(s)",
      );
      await until("lag 35", async () => (await text(page, `${grow} [data-col="lag"]`)) === "35");
      const offsetRows = await until("committed offsets 5, 1, 0", async () => {
        const rows = await cellTexts(page, '[data-testid="offset-row"]');
        return rows[0]?.[2] === "5" ? rows : null;
      });
      assert.deepEqual(offsetRows, [
        ["shop", "0", "5", "40", "35"],
        ["shop", "1", "1", "1", "0"],
        ["shop", "2", "0", "0", "0"],
      ]);
      // The group resumes exactly there.
      const resumed = decoder.decode(
        await kcat(b.address, ["-G", "shop-readers", "-e", "-q", "-f", "%p:%o\n", "shop"]),
      );
      assert.deepEqual(
        resumed.trim().split("\n"),
        Array.from({ length: 35 }, (_, i) => `0:${i + 5}`),
      );
      // Lag over time: the chart has the history, 35 after the reset and 0 once caught up.
      await until(
        "lag 0 again",
        async () => (await text(page, `${grow} [data-col="lag"]`)) === "0",
      );
      await until(
        "the lag chart's latest 0",
        async () => (await text(page, "#lag-chart-last")) === "0",
      );
      const values = (await page.getAttribute("#lag-chart", "data-values"))!.split(",").map(Number);
      assert.ok(values.includes(35), `lag history ${values}`);
      assert.equal(values[values.length - 1], 0);
      assert.ok(values.length <= 90, "bounded history");
      assert.equal(await page.locator("#lag-chart polyline").count(), 1);

      // Failed requests leave out the protocol's routine answers (the consumers' first
      // JoinGroup got MEMBER_ID_REQUIRED).
      const metrics = await (await fetch(`${url}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })).text();
      assert.match(metrics, /error="MEMBER_ID_REQUIRED"/);
      assert.match(await text(page, "#total-requests"), /^[\d,]+ \(0\)$/);

      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({
        path: new URL("console_actions.png", ARTIFACTS).pathname,
        fullPage: true,
      });

      // ---- a group with a live member is not deleted --------------------------------------------
      const live = new Deno.Command("kcat", {
        args: ["-b", b.address, "-G", "live-group", "-q", "shop"],
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        const lrow = '[data-testid="group-row"][data-group="live-group"]';
        await until("live-group Stable", async () => /Stable/.test(await text(page, lrow)), 30_000);
        await page.click(lrow);
        await until("its panel", async () => (await text(page, "#group-name")) === "live-group");
        await page.click("#delete-group");
        await page.click("#delete-group-confirm");
        await until(
          "the refusal",
          async () =>
            /^delete failed: group 'live-group' is Stable: only an Empty group/.test(
              await text(page, "#delete-group-note"),
            ),
        );
        expectedErrors.push(/status of 409/);
        assert.ok(await page.isVisible("#delete-group"), "the confirmation is closed");
        assert.ok(await page.$(lrow));
      } finally {
        live.kill("SIGKILL");
        await live.status;
      }
      await page.click(grow);
      await until(
        "shop-readers' panel",
        async () => (await text(page, "#group-name")) === "shop-readers",
      );

      // ---- delete the group, then the topic ------------------------------------------------------
      await page.click("#delete-group");
      await page.click("#delete-group-confirm");
      await until("the group row gone", async () => (await page.$(grow)) === null);
      assert.equal(await text(page, "#groups-note"), "deleted group shop-readers");
      assert.ok(await page.isHidden("#group-detail"));
      // (live-group stays: its killed member has not timed out.)
      assert.deepEqual(await consumerGroups(b.address), ["live-group"]);

      await page.click(row);
      await until("the shop panel", async () => (await text(page, "#detail-name")) === "shop");
      await page.click("#delete-topic");
      await page.click("#delete-topic-confirm");
      await until("the topic row gone", async () => (await page.$(row)) === null);
      assert.equal(await text(page, "#create-topic-note"), "deleted topic shop");
      assert.ok(await page.isHidden("#topic-detail"));
      assert.equal(await describeTopic(b.address, "shop"), null);

      // Nothing but the refusals above: no script errors, no other failed request.
      assert.equal(
        pageErrors.length,
        expectedErrors.length,
        [...pageErrors, ...failedResponses].join("\n"),
      );
      pageErrors.forEach((e, i) => assert.match(e, expectedErrors[i]));
      assert.deepEqual(foreign, [], "the console loads nothing from elsewhere");
    } finally {
      await context?.close().catch(() => {});
      await b.kill();
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
