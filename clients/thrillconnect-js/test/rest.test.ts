import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ThrillConnectClient, ThrillConnectHttpError, type FetchLike } from "@thrillsuite/thrillconnect";
import { DEMO_INSTANCE_ID, FakeThrillConnect } from "./fake-server.js";

describe("REST", () => {
  let server: FakeThrillConnect;
  let client: ThrillConnectClient;

  before(async () => {
    server = await FakeThrillConnect.start();
    client = new ThrillConnectClient({ baseUrl: `${server.baseUrl}/` }); // REST only; the global fetch
  });
  after(() => server.stop());

  const lastRequest = () => server.requests[server.requests.length - 1];

  test("getInstanceBySource: path with operator:brand as is, player_id and country_code in the query", async () => {
    const instance = await client.getInstanceBySource("sitewide-casino", "demo_operator:demo_brand", {
      playerId: "demo player 1",
      countryCode: "MT",
    });
    assert.equal(
      lastRequest(),
      "GET /v1/thrillpots/instances/source/sitewide-casino/brand/demo_operator:demo_brand?player_id=demo%20player%201&country_code=MT",
    );
    assert.equal(instance.id, DEMO_INSTANCE_ID);
    assert.equal(instance.opt_in, null); // never opted
    assert.deepEqual(instance.pots.map((p) => p.id), ["minor", "major"]);
  });

  test("getInstanceBySource without options sends no query", async () => {
    const instance = await client.getInstanceBySource("sitewide-casino", "demo_operator:demo_brand");
    assert.equal(lastRequest(), "GET /v1/thrillpots/instances/source/sitewide-casino/brand/demo_operator:demo_brand");
    assert.equal(instance.opt_in, undefined);
  });

  test("getInstance", async () => {
    const instance = await client.getInstance(DEMO_INSTANCE_ID);
    assert.equal(lastRequest(), `GET /v1/thrillpots/instances/${DEMO_INSTANCE_ID}`);
    assert.equal(instance.name, "Demo Quick Hit");
  });

  test("getCurrencies with and without a brand", async () => {
    const system = await client.getCurrencies();
    assert.equal(lastRequest(), "GET /v1/currencies");
    assert.equal(system.multipliers.GBP, 0.8592);
    const brand = await client.getCurrencies("demo_operator:demo_brand");
    assert.equal(lastRequest(), "GET /v1/currencies?brand_id=demo_operator%3Ademo_brand");
    assert.deepEqual(brand.multipliers, { EUR: 1, USD: 1.25 });
  });

  test("getSources", async () => {
    const sources = await client.getSources("demo_operator:demo_brand");
    assert.equal(lastRequest(), "GET /v1/thrillpots/sources?owner_id=demo_operator%3Ademo_brand");
    assert.deepEqual(sources.map((s) => [s.source_id, s.instance_ids]), [["sitewide-casino", [DEMO_INSTANCE_ID]]]);
  });

  test("a 404 problem document becomes a ThrillConnectHttpError with its status and detail", async () => {
    await assert.rejects(client.getInstanceBySource("no-such-source", "demo_operator:demo_brand"), (e: unknown) => {
      assert.ok(e instanceof ThrillConnectHttpError);
      assert.equal(e.status, 404);
      assert.equal(e.code, "http_404");
      assert.equal(e.title, "Not Found");
      assert.equal(e.detail, "no instance for source no-such-source of brand demo_operator:demo_brand");
      assert.equal(e.message, "404 Not Found: no instance for source no-such-source of brand demo_operator:demo_brand");
      return true;
    });
  });

  test("a 400 validation problem names the parameters in the message", async () => {
    await assert.rejects(
      client.getInstanceBySource("sitewide-casino", "demo_operator:demo_brand", { countryCode: "Malta" }),
      (e: unknown) => {
        assert.ok(e instanceof ThrillConnectHttpError);
        assert.equal(e.status, 400);
        assert.deepEqual(e.problem?.errors, { country_code: ["must be an ISO 3166-1 alpha-2 code"] });
        assert.equal(e.message, "400 One or more validation errors occurred. (country_code: must be an ISO 3166-1 alpha-2 code)");
        return true;
      },
    );
  });

  test("a non-JSON error body (a proxy's page) still gives the status and the text", async () => {
    await assert.rejects(client.getInstance("behind-a-dead-proxy"), (e: unknown) => {
      assert.ok(e instanceof ThrillConnectHttpError);
      assert.equal(e.status, 502);
      assert.equal(e.problem, undefined);
      assert.equal(e.message, "502 Bad Gateway: <html><body>502 Bad Gateway</body></html>");
      return true;
    });
  });

  test("an injected fetch is used, with a JSON Accept header", async () => {
    const calls: [string, unknown][] = [];
    const fetch: FetchLike = async (url, init) => {
      calls.push([url, init]);
      return { ok: true, status: 200, statusText: "OK", text: async () => '{"last_updated":1,"base_currency":"EUR","multipliers":{}}' };
    };
    const injected = new ThrillConnectClient({ baseUrl: "https://edge.example/tc", fetch });
    const currencies = await injected.getCurrencies();
    assert.equal(currencies.base_currency, "EUR");
    assert.deepEqual(calls, [["https://edge.example/tc/v1/currencies", { method: "GET", headers: { accept: "application/json" } }]]);
  });

  test("without baseUrl the paths are relative (a page served by ThrillConnect itself)", async () => {
    const urls: string[] = [];
    const fetch: FetchLike = async (url) => {
      urls.push(url);
      return { ok: true, status: 200, statusText: "OK", text: async () => "[]" };
    };
    await new ThrillConnectClient({ fetch }).getSources("demo_operator:demo_brand");
    assert.deepEqual(urls, ["/v1/thrillpots/sources?owner_id=demo_operator%3Ademo_brand"]);
  });
});
