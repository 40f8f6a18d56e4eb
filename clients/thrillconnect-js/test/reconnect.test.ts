import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import WebSocket from "ws";
import { FINAL_CLOSE_CODES, type ThrillConnectClient } from "@thrillsuite/thrillconnect";
import { BRAND_WITHOUT_WALLET, FakeThrillConnect, type FakeConnection } from "./fake-server.js";
import { instantTimers, next, playerClient, record } from "./helpers.js";

describe("reconnect", () => {
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

  // How the fake ends a connection with each code: 1006 is no close frame at all (the TCP connection drops).
  const end = (connection: FakeConnection, code: number, reason: string) =>
    code === 1006 ? connection.socket.terminate() : connection.socket.close(code, reason);

  for (const [code, reason] of [
    [1001, "going away"],
    [1006, ""],
    [1011, "server error"],
    [4408, "408 queue overflowed"],
    [4429, "429 too many messages"],
  ] as const) {
    test(`after ${code} it reconnects and sends its subscriptions again`, async () => {
      const timers = instantTimers();
      const client = track(playerClient(server.baseUrl, { timers }));
      client.subscribe([{ source: "thrillpots", event_type: "WinEvent" }]);
      await client.connect();
      const first = await server.connections.next();
      await first.messages.next();
      client.subscribe([{ source: "thrillpots", event_type: "OptInEvent" }]); // added while connected: also re-sent
      await first.messages.next();

      const reconnecting = next(client, "reconnecting");
      const reopened = next(client, "open");
      end(first, code, reason);
      const [info] = await reconnecting;
      assert.equal(info.code, code);
      assert.equal(info.reason, reason);
      assert.equal(info.attempt, 1);
      assert.equal(client.status === "reconnecting" || client.status === "connecting", true);
      const [{ reconnected }] = await reopened;
      assert.equal(reconnected, true);

      const second = await server.connections.next();
      assert.notEqual(second, first);
      assert.deepEqual(await second.messages.next(), {
        SubscribeRequest: {
          events: [
            { source: "thrillpots", event_type: "WinEvent" },
            { source: "thrillpots", event_type: "OptInEvent" },
          ],
        },
      });
      assert.deepEqual(timers.delays, [info.delayMs]);
    });
  }

  // Each refusal provoked the way the real server would see it: bad parameters, a token the wallet refuses, a browser
  // origin not on the brand's list, a brand without a wallet.
  const refusals: [number, string, Record<string, unknown>][] = [
    [4400, "400 currency must be an ISO 4217 code", { currency: "euro" }],
    [4401, "401 invalid token", { token: "expired_token" }],
    [
      4403,
      "403 origin not allowed",
      { WebSocket: class extends WebSocket { constructor(url: string) { super(url, { origin: "https://evil.example" }); } } },
    ],
    [4404, "404 no wallet for the brand", { brandId: BRAND_WITHOUT_WALLET }],
  ];
  for (const [code, reason, options] of refusals) {
    test(`after ${code} it stops: a \`closed\` event with code and reason, no retry`, async () => {
      const timers = instantTimers();
      const client = track(playerClient(server.baseUrl, { timers, ...options }));
      const closedEvents = record(client, "closed");
      const closed = next(client, "closed");
      await client.connect(); // the server accepts, then closes: connect() resolves first
      const [info] = await closed;
      assert.deepEqual(info, { code, reason });
      assert.deepEqual(closedEvents, [[{ code, reason }]]);
      assert.equal(client.status, "closed");
      assert.deepEqual(timers.delays, [], "no retry was scheduled");
      assert.equal(server.all.length, 1);
    });
  }

  test("FINAL_CLOSE_CODES are exactly the contract's do-not-retry codes", () => {
    assert.deepEqual([...FINAL_CLOSE_CODES].sort(), [4400, 4401, 4403, 4404]);
  });

  test("backoff: delays grow by the factor up to the cap, each within its jitter bounds", async () => {
    const timers = instantTimers();
    const settings = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 };
    const client = track(playerClient(server.baseUrl, { timers, reconnect: settings })); // Math.random jitter
    const refusedConnections = 7;
    let accepted = 0;
    // ThrillGate unreachable: every connection is accepted and closed at once with 1011, before any message.
    server.onConnection = (connection) => {
      if (++accepted <= refusedConnections) connection.socket.close(1011, "server error");
    };
    const attempts = record(client, "reconnecting");
    const settled = next(client, "open", () => accepted > refusedConnections);
    await client.connect();
    await settled;

    const bases = [100, 200, 400, 800, 1000, 1000, 1000];
    assert.deepEqual(attempts.map(([a]) => a.attempt), [1, 2, 3, 4, 5, 6, 7]);
    attempts.forEach(([{ delayMs }], i) => {
      const low = bases[i] * (1 - settings.jitter);
      assert.ok(delayMs >= low && delayMs <= bases[i], `attempt ${i + 1}: ${delayMs} ms not within [${low}, ${bases[i]}]`);
    });
    assert.deepEqual(timers.delays, attempts.map(([a]) => a.delayMs));
  });

  test("backoff: the jitter is base × (1 − jitter × random), and a connection that proved itself resets it", async () => {
    const timers = instantTimers();
    const randoms = [0, 0.999, 0.5, 0.25];
    const client = track(
      playerClient(server.baseUrl, {
        timers,
        random: () => randoms.shift() ?? assert.fail("more random numbers asked for than expected"),
        reconnect: { initialDelayMs: 1000, maxDelayMs: 3000, factor: 3, jitter: 0.4 },
      }),
    );
    client.subscribe([{ source: "thrillpots", event_type: "JackpotUpdate" }]);
    let accepted = 0;
    server.onConnection = (connection) => {
      if (++accepted <= 3) connection.socket.close(1011, "server error");
    };
    const attempts = record(client, "reconnecting");
    const update = next(client, "JackpotUpdate"); // the 4th connection is a good one: its subscription is answered
    await client.connect();
    await update;
    assert.deepEqual(attempts.map(([a]) => [a.attempt, a.delayMs]), [
      [1, 1000], // 1000 × (1 − 0.4 × 0)
      [2, 1801], // 3000 × (1 − 0.4 × 0.999) = 1801.2, rounded
      [3, 2400], // min(3000, 9000) × (1 − 0.4 × 0.5)
    ]);

    // The good connection received a message, so after it goes away the backoff starts over.
    const again = next(client, "reconnecting");
    (await lastConnection(server)).socket.close(1001, "going away");
    const [info] = await again;
    assert.deepEqual([info.attempt, info.delayMs, info.code], [1, 900, 1001]); // 1000 × (1 − 0.4 × 0.25)
  });

  test("a connection that stayed open for stableAfterMs proved itself even without a message", async () => {
    const timers = instantTimers();
    let now = 1_000_000;
    const client = track(
      playerClient(server.baseUrl, {
        timers,
        now: () => now,
        random: () => 0,
        reconnect: { initialDelayMs: 100, factor: 2, stableAfterMs: 5000 },
      }),
    );
    await client.connect();
    const attempts = record(client, "reconnecting");

    let reopened = next(client, "open");
    (await server.connections.next()).socket.close(1011, "server error"); // opened, no message, no time passed
    await reopened;
    reopened = next(client, "open");
    (await server.connections.next()).socket.close(1011, "server error");
    await reopened;
    now += 5000; // this one stays up long enough
    const last = next(client, "reconnecting");
    (await server.connections.next()).socket.close(1001, "going away");
    await last;
    assert.deepEqual(attempts.map(([a]) => [a.attempt, a.delayMs]), [[1, 100], [2, 200], [1, 100]]);
  });

  test("reconnect: false stops at the first close", async () => {
    const client = track(playerClient(server.baseUrl, { reconnect: false }));
    const closed = next(client, "closed");
    await client.connect();
    (await server.connections.next()).socket.close(1001, "going away");
    assert.deepEqual((await closed)[0], { code: 1001, reason: "going away" });
    assert.equal(client.status, "closed");
  });

  test("close() while waiting to reconnect cancels the retry", async () => {
    const pending: (() => void)[] = [];
    const cleared: unknown[] = [];
    const client = track(
      playerClient(server.baseUrl, {
        // Timers that never fire on their own: the retry stays scheduled until close() cancels it.
        timers: { setTimeout: (callback: () => void) => pending.push(callback), clearTimeout: (handle: unknown) => cleared.push(handle) },
      }),
    );
    await client.connect();
    const reconnecting = next(client, "reconnecting");
    (await server.connections.next()).socket.close(1001, "going away");
    await reconnecting;
    assert.equal(client.status, "reconnecting");
    client.close();
    assert.deepEqual(cleared, [1], "the retry's timer was cleared");
    assert.equal(client.status, "closed");
  });
});

/** The newest connection the fake accepted (draining the queue of new ones). */
async function lastConnection(server: FakeThrillConnect): Promise<FakeConnection> {
  while (server.connections.length > 0) await server.connections.next();
  return server.all[server.all.length - 1];
}
