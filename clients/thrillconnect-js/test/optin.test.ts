import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import WebSocket from "ws";
import {
  ThrillConnectClient,
  ThrillConnectError,
  type PlayerOptInRequest,
} from "@thrillsuite/thrillconnect";
import { DEMO_INSTANCE_ID, FakeThrillConnect, SERVICE_TOKEN } from "./fake-server.js";
import { next, playerClient } from "./helpers.js";

const optInRequest = (overrides: Partial<PlayerOptInRequest> = {}): PlayerOptInRequest => ({
  instance_id: DEMO_INSTANCE_ID,
  player_id: "demo_player_1",
  brand_id: "demo_operator:demo_brand",
  player_country: "MT",
  opt_in: true,
  ...overrides,
});

const isError = (code: string) => (e: unknown) => {
  assert.ok(e instanceof ThrillConnectError, `not a ThrillConnectError: ${String(e)}`);
  assert.equal(e.code, code);
  return true;
};

describe("opt-in requests", () => {
  let server: FakeThrillConnect;
  const clients: ThrillConnectClient[] = [];
  const connected = async (client: ThrillConnectClient) => {
    clients.push(client);
    await client.connect();
    return server.connections.next();
  };

  beforeEach(async () => {
    server = await FakeThrillConnect.start();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await server.stop();
  });

  test("optIn sends PlayerOptInRequest with a request_id and resolves with the matching PlayerOptInResponse", async () => {
    const client = playerClient(server.baseUrl);
    client.subscribe([{ source: "thrillpots", event_type: "OptInEvent" }]);
    const connection = await connected(client);
    await connection.messages.next(); // SubscribeRequest
    const optInEvent = next(client, "OptInEvent");

    const response = await client.optIn(optInRequest({ contribution_value: 0.3 }));
    const sent = await connection.messages.next();
    const requestId = sent.PlayerOptInRequest.request_id;
    assert.equal(typeof requestId, "string");
    assert.ok(requestId.length > 0 && requestId.length <= 64);
    assert.deepEqual(sent, { PlayerOptInRequest: { ...optInRequest({ contribution_value: 0.3 }), request_id: requestId } });
    assert.equal(response.request_id, requestId);
    assert.equal(response.opted_in, true);
    assert.equal(response.instance_id, DEMO_INSTANCE_ID);
    assert.equal(response.preferred_contribution_value, 0.3);

    const [event] = await optInEvent;
    assert.equal(event.opted_in, true);
    assert.equal(event.player_id, "demo_player_1");
  });

  test("answers are matched by request_id, not by order", async () => {
    const client = playerClient(server.baseUrl);
    const connection = await connected(client);
    server.holdOptIns = true;
    const optIn = client.optIn(optInRequest({ opt_in: true }));
    const optOut = client.optIn(optInRequest({ opt_in: false }));
    const first = await connection.messages.next();
    const second = await connection.messages.next();
    assert.notEqual(first.PlayerOptInRequest.request_id, second.PlayerOptInRequest.request_id);
    server.answerOptIn(connection, second); // the opt-out is answered first
    server.answerOptIn(connection, first);
    const [a, b] = await Promise.all([optIn, optOut]);
    assert.deepEqual([a.opted_in, a.request_id], [true, first.PlayerOptInRequest.request_id]);
    assert.deepEqual([b.opted_in, b.request_id], [false, second.PlayerOptInRequest.request_id]);
  });

  test("the matching Error rejects with its code and message; the connection stays open", async () => {
    const client = playerClient(server.baseUrl);
    await connected(client);
    const unrelated: unknown[] = [];
    client.on("error", (e) => unrelated.push(e));
    await assert.rejects(client.optIn(optInRequest({ instance_id: "00000000-0000-0000-0000-000000000000" })), (e: unknown) => {
      isError("not_found")(e);
      assert.equal((e as ThrillConnectError).msgName, "PlayerOptInRequest");
      assert.equal((e as ThrillConnectError).message, "no such instance");
      assert.match((e as ThrillConnectError).requestId ?? "", /.+/);
      return true;
    });
    await assert.rejects(client.optIn(optInRequest({ player_id: "demo_player_2" })), isError("forbidden"));
    assert.deepEqual(unrelated, [], "an answered error is not also an `error` event");
    assert.equal((await client.optIn(optInRequest())).opted_in, true);
  });

  test("optInV2 targets a source and resolves like optIn", async () => {
    const client = playerClient(server.baseUrl);
    const connection = await connected(client);
    const response = await client.optInV2({
      target: { type: "source", id: "sitewide-casino" },
      operator_id: "demo_operator",
      player: { id: "demo_player_1", country: "MT", brand_id: "demo_brand" },
      opt_in: true,
      opt_linked: true,
    });
    const sent = await connection.messages.next();
    assert.deepEqual(Object.keys(sent), ["PlayerOptInRequestV2"]);
    assert.equal(sent.PlayerOptInRequestV2.opt_linked, true);
    assert.equal(response.request_id, sent.PlayerOptInRequestV2.request_id);
    assert.equal(response.instance_id, DEMO_INSTANCE_ID);
  });

  test("no answer within the timeout rejects with `timeout`; a late answer changes nothing", async () => {
    const client = playerClient(server.baseUrl);
    const connection = await connected(client);
    server.holdOptIns = true;
    await assert.rejects(client.optIn(optInRequest(), { timeoutMs: 30 }), isError("timeout"));
    const late = next(client, "PlayerOptInResponse");
    server.answerOptIn(connection, await connection.messages.next());
    const [data] = await late; // still dispatched as a message, but no promise is left to settle
    assert.equal(data.opted_in, true);
    assert.equal(client.status, "open");
  });

  test("requestTimeoutMs sets the default timeout", async () => {
    const client = playerClient(server.baseUrl, { requestTimeoutMs: 20 });
    await connected(client);
    server.holdOptIns = true;
    await assert.rejects(client.optIn(optInRequest()), isError("timeout"));
  });

  test("a connection lost while waiting rejects at once with `connection_closed`", async () => {
    const client = playerClient(server.baseUrl);
    const connection = await connected(client);
    server.holdOptIns = true;
    const pending = client.optIn(optInRequest(), { timeoutMs: 60_000 });
    await connection.messages.next();
    connection.socket.close(1001, "going away");
    await assert.rejects(pending, isError("connection_closed"));
  });

  test("without an open connection optIn rejects with `not_connected`", async () => {
    const client = playerClient(server.baseUrl);
    await assert.rejects(client.optIn(optInRequest()), isError("not_connected"));
  });

  test("a service connection is refused by the server: `forbidden`", async () => {
    const client = new ThrillConnectClient({ baseUrl: server.baseUrl, serviceToken: SERVICE_TOKEN, WebSocket });
    await connected(client);
    await assert.rejects(client.optIn(optInRequest()), isError("forbidden"));
  });
});
