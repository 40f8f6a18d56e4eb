import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import WebSocket from "ws";
import {
  ThrillConnectClient,
  ThrillConnectError,
  type JackpotUpdate,
  type OptInEvent,
  type PlayerBonus,
  type WebSocketLike,
  type WinEvent,
} from "@thrillsuite/thrillconnect";
import { DEMO_INSTANCE_ID, FakeThrillConnect, SERVICE_TOKEN } from "./fake-server.js";
import { instantTimers, next, playerClient, record } from "./helpers.js";

/** connect() and then close() before any socket opened: connect() rejects, which these tests expect. */
async function connectAndClose(client: ThrillConnectClient): Promise<void> {
  const connecting = client.connect();
  client.close();
  await assert.rejects(connecting, (e: unknown) => e instanceof ThrillConnectError && e.code === "closed");
}

/** A WebSocket that only records the URL it was given: for URL tests that need no server. */
function urlRecorder(): { urls: string[]; WebSocket: new (url: string) => WebSocketLike } {
  const urls: string[] = [];
  class Recorder implements WebSocketLike {
    readyState = 0;
    onopen = null;
    onmessage = null;
    onclose = null;
    onerror = null;
    constructor(url: string) {
      urls.push(url);
    }
    send(): void {}
    close(): void {}
  }
  return { urls, WebSocket: Recorder };
}

describe("WebSocket URLs", () => {
  test("player: operator and brand in the path, token and currency in the query, http(s) → ws(s), prefix kept", async () => {
    const { urls, WebSocket } = urlRecorder();
    const client = new ThrillConnectClient({
      baseUrl: "https://edge.example/thrillconnect/",
      operatorId: "op 1",
      brandId: "brand/1",
      token: "a&b=c d",
      currency: "EUR",
      WebSocket,
    });
    await connectAndClose(client);
    assert.deepEqual(urls, ["wss://edge.example/thrillconnect/v1/events/op%201/brand%2F1?token=a%26b%3Dc%20d&currency=EUR"]);
  });

  test("service: /v1/events/service with the JWT as token", async () => {
    const { urls, WebSocket } = urlRecorder();
    const client = new ThrillConnectClient({ baseUrl: "http://127.0.0.1:5104", serviceToken: "h.p.s", WebSocket });
    await connectAndClose(client);
    assert.deepEqual(urls, ["ws://127.0.0.1:5104/v1/events/service?token=h.p.s"]);
  });

  test("without baseUrl a page's own host is used, wss on https pages", async () => {
    const { urls, WebSocket } = urlRecorder();
    const global = globalThis as { location?: unknown };
    global.location = { protocol: "https:", host: "casino.example:8443" };
    try {
      const client = new ThrillConnectClient({ operatorId: "o", brandId: "b", token: "t", currency: "EUR", WebSocket });
      await connectAndClose(client);
      assert.deepEqual(urls, ["wss://casino.example:8443/v1/events/o/b?token=t&currency=EUR"]);
    } finally {
      delete global.location;
    }
  });

  test("a REST-only client (no token) refuses connect()", async () => {
    const client = new ThrillConnectClient({ baseUrl: "http://127.0.0.1:1" });
    await assert.rejects(client.connect(), (e: unknown) => e instanceof ThrillConnectError && e.code === "no_credentials");
  });
});

describe("connection", () => {
  let server: FakeThrillConnect;
  const clients: ThrillConnectClient[] = [];
  const track = (client: ThrillConnectClient) => (clients.push(client), client);

  beforeEach(async () => {
    server = await FakeThrillConnect.start();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await server.stop();
  });

  test("a player connects with its query parameters; subscriptions made before connect() go out on open", async () => {
    const client = track(playerClient(server.baseUrl));
    const statuses = record(client, "status");
    client.subscribe([{ source: "thrillpots", event_type: "JackpotUpdate" }]);
    await client.connect();
    assert.equal(client.status, "open");
    assert.deepEqual(statuses.map(([s]) => s), ["connecting", "open"]);

    const connection = await server.connections.next();
    assert.equal(connection.url.pathname, "/v1/events/demo_operator/demo_brand");
    assert.equal(connection.url.searchParams.get("token"), "demo_token_1");
    assert.equal(connection.url.searchParams.get("currency"), "EUR");
    assert.deepEqual(await connection.messages.next(), {
      SubscribeRequest: { events: [{ source: "thrillpots", event_type: "JackpotUpdate" }] },
    });
  });

  test("subscribe() while open sends only what is new, and nothing for a repeat", async () => {
    const client = track(playerClient(server.baseUrl));
    client.subscribe([{ source: "thrillpots", event_type: "WinEvent" }]);
    await client.connect();
    const connection = await server.connections.next();
    await connection.messages.next();
    client.subscribe([
      { source: "thrillpots", event_type: "WinEvent" },
      { source: "thrillgate", event_type: "*" },
    ]);
    client.subscribe([{ source: "thrillgate", event_type: "*" }]); // already there: nothing goes out
    client.subscribe([{ source: "thrillpots", event_type: "OptInEvent" }]);
    assert.deepEqual(await connection.messages.next(), { SubscribeRequest: { events: [{ source: "thrillgate", event_type: "*" }] } });
    assert.deepEqual(await connection.messages.next(), { SubscribeRequest: { events: [{ source: "thrillpots", event_type: "OptInEvent" }] } });
    assert.deepEqual(client.subscribed, [
      { source: "thrillpots", event_type: "WinEvent" },
      { source: "thrillgate", event_type: "*" },
      { source: "thrillpots", event_type: "OptInEvent" },
    ]);
  });

  test("events are dispatched by msg_name with their data and envelope; other names reach generic handlers", async () => {
    const client = track(playerClient(server.baseUrl));
    client.subscribe([
      { source: "thrillpots", event_type: "*" },
      { source: "thrillgate", event_type: "*" },
    ]);
    const updates: JackpotUpdate[] = [];
    client.on("JackpotUpdate", (data, envelope) => {
      assert.equal(envelope.msg_type, "Event");
      assert.equal(envelope.brand_id, "demo_brand");
      updates.push(data);
    });
    const firstUpdate = next(client, "JackpotUpdate");
    await client.connect();
    await firstUpdate;
    assert.equal(updates[0].id, DEMO_INSTANCE_ID);
    assert.deepEqual(updates[0].pots.map((p) => [p.id, p.current_value, p.player_value]), [["minor", 10.5, 10.5], ["major", 100.25, 100.25]]);
    assert.equal(updates[0].player_currency, "EUR");

    const win = next(client, "WinEvent");
    const optIn = next(client, "OptInEvent");
    const bonus = new Promise<[PlayerBonus, { source: string }]>((resolve) =>
      client.on("PlayerBonusAdded", (data, envelope) => resolve([data, envelope])),
    );
    const brand = { operatorId: "demo_operator", brandId: "demo_brand" };
    server.publish("WinEvent", { instance_id: DEMO_INSTANCE_ID, player_id: "demo_player_2", win_pot_id: "minor", player_value: 10.5 }, brand);
    server.publish("OptInEvent", { instance_id: DEMO_INSTANCE_ID, player_id: "demo_player_1", opted_in: true }, { ...brand, playerId: "demo_player_1" });
    server.publish("PlayerBonusAdded", { id: "bonus-1", state: "Available" }, { ...brand, playerId: "demo_player_1" }, "thrillgate");

    const [winData, winEnvelope] = await win;
    assert.equal((winData as WinEvent).win_pot_id, "minor");
    assert.equal(winEnvelope.player_id, null);
    const [optInData, optInEnvelope] = await optIn;
    assert.equal((optInData as OptInEvent).opted_in, true);
    assert.equal(optInEnvelope.player_id, "demo_player_1");
    const [bonusData, bonusEnvelope] = await bonus;
    assert.deepEqual(bonusData, { id: "bonus-1", state: "Available" } as unknown as PlayerBonus);
    assert.equal(bonusEnvelope.source, "thrillgate");
  });

  test("on() returns the function that removes the handler", async () => {
    const client = track(playerClient(server.baseUrl));
    client.subscribe([{ source: "thrillpots", event_type: "WinEvent" }, { source: "thrillpots", event_type: "OptInEvent" }]);
    await client.connect();
    await (await server.connections.next()).messages.next(); // subscribed
    let wins = 0;
    const off = client.on("WinEvent", () => wins++);
    const brand = { operatorId: "demo_operator", brandId: "demo_brand" };

    let sentinel = next(client, "OptInEvent");
    server.publish("WinEvent", { win_pot_id: "minor" }, brand);
    server.publish("OptInEvent", {}, brand); // frames arrive in order: once this is here, the win was handled
    await sentinel;
    assert.equal(wins, 1);

    off();
    sentinel = next(client, "OptInEvent");
    server.publish("WinEvent", { win_pot_id: "major" }, brand);
    server.publish("OptInEvent", {}, brand);
    await sentinel;
    assert.equal(wins, 1);
  });

  test("a server Error that answers no request is an `error` event; the connection stays open", async () => {
    const client = track(playerClient(server.baseUrl));
    await client.connect();
    const connection = await server.connections.next();
    const error = next(client, "error");
    connection.send(server.error(connection, "InvalidMessage", "unknown_message", "unknown message Foo"));
    const [e] = await error;
    assert.ok(e instanceof ThrillConnectError);
    assert.equal(e.code, "unknown_message");
    assert.equal(e.msgName, "InvalidMessage");
    assert.equal(e.message, "unknown message Foo");
    assert.equal(client.status, "open");
  });

  test("a handler that throws neither stops the others nor the connection", async () => {
    const client = track(playerClient(server.baseUrl));
    client.subscribe([{ source: "thrillpots", event_type: "JackpotUpdate" }]);
    const reported: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => reported.push(args[1]);
    try {
      client.on("JackpotUpdate", () => {
        throw new Error("widget bug");
      });
      const second = next(client, "JackpotUpdate");
      await client.connect();
      await second;
    } finally {
      console.error = original;
    }
    assert.equal((reported[0] as Error).message, "widget bug");
    assert.equal(client.status, "open");
  });

  test("a service connection reads every brand's events", async () => {
    const client = track(new ThrillConnectClient({ baseUrl: server.baseUrl, serviceToken: SERVICE_TOKEN, WebSocket }));
    client.subscribe([{ source: "thrillpots", event_type: "WinEvent" }]);
    await client.connect();
    const connection = await server.connections.next();
    assert.equal(connection.kind, "service");
    assert.equal(connection.url.pathname, "/v1/events/service");
    assert.equal(connection.url.searchParams.get("token"), SERVICE_TOKEN);
    await connection.messages.next();
    const wins = record(client, "WinEvent");
    const second = next(client, "WinEvent", (_, envelope) => envelope.brand_id === "other_brand");
    server.publish("WinEvent", { win_pot_id: "minor" }, { operatorId: "demo_operator", brandId: "demo_brand" });
    server.publish("WinEvent", { win_pot_id: "major" }, { operatorId: "other_operator", brandId: "other_brand" });
    await second;
    assert.deepEqual(wins.map(([, e]) => `${e.operator_id}:${e.brand_id}`), ["demo_operator:demo_brand", "other_operator:other_brand"]);
  });

  test("close() closes with 1000, emits `closed` once, and does not reconnect", async () => {
    const timers = instantTimers();
    const client = track(playerClient(server.baseUrl, { timers }));
    await client.connect();
    const connection = await server.connections.next();
    const closed = record(client, "closed");
    client.close();
    client.close();
    assert.equal(await connection.closed, 1000);
    assert.deepEqual(closed, [[{ code: 1000, reason: "client closed" }]]);
    assert.equal(client.status, "closed");
    assert.deepEqual(timers.delays, [], "no retry was scheduled");
  });

  test("close() before the socket opened rejects connect()", async () => {
    await connectAndClose(track(playerClient(server.baseUrl)));
  });
});
