// A local ThrillConnect that follows services/ThrillConnect/README.md closely enough to test the client against:
// the REST reads with problem documents, the player and service WebSockets with their query parameters, close codes
// for refused connections, externally tagged client messages, subscriptions, opt-in answers matched by request_id and
// event routing by operator/brand/player. Tests reach into it (push frames, close sockets, hold answers) where the
// real server's behaviour would need a whole suite to provoke.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export interface Envelope {
  msg_type: "Event" | "Message" | "Error";
  source: string;
  msg_name: string;
  operator_id: string;
  brand_id: string;
  player_id: string | null;
  data: unknown;
  timestamp: number;
}

interface Player {
  playerId: string;
  operatorId: string;
  brandId: string;
}

/** Items in arrival order; next() takes the oldest or waits for one, so tests await conditions instead of sleeping. */
export class Queue<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get length(): number {
    return this.items.length;
  }
}

export class FakeConnection {
  readonly subscriptions: { source: string; event_type: string }[] = [];
  /** Every parsed client message, in order. */
  readonly messages = new Queue<Record<string, any>>();
  /** Resolves when the socket is closed, with the code the server sent (or 1006 when it dropped). */
  readonly closed: Promise<number>;

  constructor(
    readonly socket: WebSocket,
    readonly url: URL,
    readonly player: Player | null,
    readonly currency: string | null,
  ) {
    this.closed = new Promise((resolve) => socket.once("close", (code) => resolve(code)));
  }

  get kind(): "player" | "service" {
    return this.player ? "player" : "service";
  }

  send(envelope: Envelope): void {
    this.socket.send(JSON.stringify(envelope));
  }

  covers(source: string, msgName: string): boolean {
    return this.subscriptions.some((s) => s.source === source && (s.event_type === "*" || s.event_type === msgName));
  }
}

const DEMO_INSTANCE = {
  id: "6f1c2a9e-0000-4000-8000-000000000001",
  name: "Demo Quick Hit",
  status: "Active",
  jackpot_type: "Jackpot",
  currency: "EUR",
  allowed_brands: ["demo_operator:demo_brand"],
  allowed_sources: ["sitewide-casino"],
  pots: [
    { id: "minor", is_progressive: true, current_value: 10.5 },
    { id: "major", is_progressive: true, current_value: 100.25 },
  ],
  timestamp_start: 1767225600000,
  timestamp_end: null,
  last_updated: 1767225600000,
  opt_in_required: true,
  default_contribution_value: 0.1,
};

const PLAYERS: Record<string, Player> = {
  demo_token_1: { playerId: "demo_player_1", operatorId: "demo_operator", brandId: "demo_brand" },
  demo_token_2: { playerId: "demo_player_2", operatorId: "demo_operator", brandId: "demo_brand" },
  "other token": { playerId: "other_player", operatorId: "other_operator", brandId: "other_brand" },
};

/** The service JWT the fake accepts (with thrillconnect:events:read). */
export const SERVICE_TOKEN = "service.jwt.token";
/** Browser origins on demo_brand's allow-list. */
const ALLOWED_ORIGINS = ["https://casino.example"];
/** A brand without a wallet (4404). */
export const BRAND_WITHOUT_WALLET = "no_wallet_brand";

export class FakeThrillConnect {
  readonly connections = new Queue<FakeConnection>();
  readonly all: FakeConnection[] = [];
  /** REST requests as "GET /path?query". */
  readonly requests: string[] = [];
  readonly instances = new Map<string, any>([[DEMO_INSTANCE.id, structuredClone(DEMO_INSTANCE)]]);
  /** player id → instance id → opted in. */
  readonly optIns = new Map<string, Map<string, boolean>>();
  /** When set, opt-in requests are only recorded; the test answers them with answerOptIn() in the order it likes. */
  holdOptIns = false;
  /** Called for each accepted connection before anything else (e.g. to close it at once as a refusal would). */
  onConnection: ((connection: FakeConnection) => void) | null = null;

  private readonly http: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true });

  private constructor() {
    this.http = http.createServer((req, res) => this.rest(req, res));
    this.http.on("upgrade", (req, socket, head) => {
      const url = new URL(req.url ?? "/", "http://fake");
      if (!/^(\/v1)?\/events\/[^/]+(\/[^/]+)?$/.test(url.pathname)) {
        socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, url, req.headers.origin));
    });
  }

  static async start(): Promise<FakeThrillConnect> {
    const server = new FakeThrillConnect();
    await new Promise<void>((resolve) => server.http.listen(0, "127.0.0.1", resolve));
    return server;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const connection of this.all) connection.socket.terminate();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------- WebSocket

  private accept(ws: WebSocket, url: URL, origin: string | undefined): void {
    const parts = url.pathname.replace(/^\/v1/, "").split("/").filter(Boolean); // events, op, brand | events, service
    const token = url.searchParams.get("token");
    const currency = url.searchParams.get("currency");
    let player: Player | null = null;
    let refusal: [number, string] | null = null;
    if (parts[1] === "service") {
      if (!token) refusal = [4400, "400 token is required"];
      else if (token !== SERVICE_TOKEN) refusal = [4401, "401 invalid service token"];
    } else {
      const [, operatorId, brandId] = parts;
      if (!token) refusal = [4400, "400 token is required"];
      else if (!currency || !/^[A-Z]{3}$/.test(currency)) refusal = [4400, "400 currency must be an ISO 4217 code"];
      else if (origin !== undefined && !ALLOWED_ORIGINS.includes(origin)) refusal = [4403, "403 origin not allowed"];
      else if (brandId === BRAND_WITHOUT_WALLET) refusal = [4404, "404 no wallet for the brand"];
      else {
        const known = PLAYERS[token];
        if (!known || known.operatorId !== operatorId || known.brandId !== brandId) refusal = [4401, "401 invalid token"];
        else player = known;
      }
    }
    const connection = new FakeConnection(ws, url, player, currency);
    this.all.push(connection);
    ws.on("message", (raw, isBinary) => this.receive(connection, raw.toString(), isBinary));
    // A refused connection is accepted and closed at once with a code and a reason (README, WebSocket).
    if (refusal) ws.close(...refusal);
    else this.onConnection?.(connection);
    this.connections.push(connection);
  }

  private receive(connection: FakeConnection, text: string, isBinary: boolean): void {
    let message: unknown;
    try {
      message = isBinary ? undefined : JSON.parse(text);
    } catch {
      message = undefined;
    }
    if (!message || typeof message !== "object") {
      connection.send(this.error(connection, "InvalidMessage", "invalid_message", "not JSON"));
      return;
    }
    connection.messages.push(message as Record<string, any>);
    const [name] = Object.keys(message);
    const body = (message as Record<string, any>)[name];
    switch (name) {
      case "SubscribeRequest":
        for (const event of body.events) connection.subscriptions.push(event);
        // A JackpotUpdate of every instance the subscription covers is pushed at once.
        if (connection.covers("thrillpots", "JackpotUpdate")) {
          for (const instance of this.instances.values()) {
            if (this.mayRead(connection, instance.allowed_brands)) connection.send(this.jackpotUpdate(connection, instance));
          }
        }
        break;
      case "PlayerOptInRequest":
      case "PlayerOptInRequestV2":
        if (!this.holdOptIns) this.answerOptIn(connection, message as Record<string, any>);
        break;
      default:
        connection.send(this.error(connection, "InvalidMessage", "unknown_message", `unknown message ${name}`));
    }
  }

  /** Answers an opt-in request as ThrillConnect does: PlayerOptInResponse to the requester, OptInEvent to the player. */
  answerOptIn(connection: FakeConnection, message: Record<string, any>): void {
    const [name] = Object.keys(message);
    const body = message[name];
    const requestId: string | undefined = body.request_id;
    const player = connection.player;
    if (!player) {
      connection.send(this.error(connection, name, "forbidden", "opt-ins are for player connections", requestId));
      return;
    }
    const v2 = name === "PlayerOptInRequestV2";
    const playerId = v2 ? body.player?.id : body.player_id;
    const brand = v2 ? `${body.operator_id}:${body.player?.brand_id}` : body.brand_id;
    if (playerId !== player.playerId || brand !== `${player.operatorId}:${player.brandId}`) {
      connection.send(this.error(connection, name, "forbidden", "not this connection's player or brand", requestId));
      return;
    }
    const instanceId =
      v2 && body.target?.type === "source"
        ? [...this.instances.values()].find((i) => i.allowed_sources.includes(body.target.id))?.id
        : v2
          ? body.target?.id
          : body.instance_id;
    const instance = this.instances.get(instanceId);
    if (!instance) {
      connection.send(this.error(connection, name, "not_found", "no such instance", requestId));
      return;
    }
    if (instance.status !== "Active") {
      connection.send(this.error(connection, name, "instance_not_active", `instance is ${instance.status}`, requestId));
      return;
    }
    const states = this.optIns.get(player.playerId) ?? new Map<string, boolean>();
    this.optIns.set(player.playerId, states);
    states.set(instance.id, Boolean(body.opt_in));
    const state = {
      instance_id: instance.id,
      player_id: player.playerId,
      ext_player_id: player.playerId,
      player_brand_id: `${player.operatorId}:${player.brandId}`,
      preferred_contribution_value: body.contribution_value ?? instance.default_contribution_value,
      contribution_count: 0,
      contribution_value: 0,
      opted_in: Boolean(body.opt_in),
      last_updated: Date.now(),
    };
    connection.send(this.envelope(connection, "Message", "PlayerOptInResponse", { ...state, request_id: requestId }, player.playerId));
    this.publish("OptInEvent", state, { ...player });
  }

  /** Delivers an event to every connection that subscribed to it and may read it (README, "What each connection receives"). */
  publish(
    msgName: string,
    data: unknown,
    target: { operatorId: string; brandId: string; playerId?: string },
    source = "thrillpots",
  ): void {
    for (const connection of this.all) {
      if (connection.socket.readyState !== connection.socket.OPEN || !connection.covers(source, msgName)) continue;
      const player = connection.player;
      if (player) {
        if (player.operatorId !== target.operatorId || player.brandId !== target.brandId) continue;
        if (target.playerId !== undefined && target.playerId !== player.playerId) continue;
      }
      connection.send({
        msg_type: "Event",
        source,
        msg_name: msgName,
        operator_id: target.operatorId,
        brand_id: target.brandId,
        player_id: target.playerId ?? null,
        data,
        timestamp: Date.now(),
      });
    }
  }

  private mayRead(connection: FakeConnection, allowedBrands: string[]): boolean {
    const player = connection.player;
    return !player || allowedBrands.includes(`${player.operatorId}:${player.brandId}`);
  }

  jackpotUpdate(connection: FakeConnection, instance: any): Envelope {
    const { opt_in_required, default_contribution_value, name, ...data } = instance;
    void opt_in_required, default_contribution_value, name;
    if (connection.currency) {
      // The fake's brand multipliers are all 1: the player's values equal the instance's.
      data.player_currency = connection.currency;
      data.pots = data.pots.map((p: any) => ({ ...p, player_value: p.current_value }));
    }
    return this.envelope(connection, "Event", "JackpotUpdate", data, null);
  }

  envelope(connection: FakeConnection, type: Envelope["msg_type"], msgName: string, data: unknown, playerId: string | null): Envelope {
    return {
      msg_type: type,
      source: "thrillpots",
      msg_name: msgName,
      operator_id: connection.player?.operatorId ?? "",
      brand_id: connection.player?.brandId ?? "",
      player_id: playerId,
      data,
      timestamp: Date.now(),
    };
  }

  error(connection: FakeConnection, msgName: string, code: string, message: string, requestId?: string): Envelope {
    const data = requestId === undefined ? { code, message } : { code, message, request_id: requestId };
    return this.envelope(connection, "Error", msgName, data, connection.player?.playerId ?? null);
  }

  // -------------------------------------------------------------------------------------------- REST

  private rest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://fake");
    this.requests.push(`${req.method} ${req.url}`);
    const json = (status: number, body: unknown, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(JSON.stringify(body));
    };
    const problem = (status: number, title: string, detail?: string, errors?: Record<string, string[]>) =>
      json(status, { type: `https://tools.ietf.org/html/rfc9110#section-15.5.${status - 399}`, title, status, detail, errors }, "application/problem+json");
    const notFound = (detail: string) => problem(404, "Not Found", detail);
    const path = url.pathname.split("/").slice(1).map(decodeURIComponent);
    const q = url.searchParams;

    if (path[0] !== "v1") return notFound(`no route ${url.pathname}`);
    if (path[1] === "currencies" && path.length === 2) {
      const brand = q.get("brand_id");
      return json(200, {
        last_updated: 1767225600000,
        base_currency: "EUR",
        multipliers: brand === "demo_operator:demo_brand" ? { EUR: 1, USD: 1.25 } : { EUR: 1, USD: 1.0762, GBP: 0.8592 },
      });
    }
    if (path[1] !== "thrillpots") return notFound(`no route ${url.pathname}`);
    if (path[2] === "sources" && path.length === 3) {
      const owner = q.get("owner_id");
      if (!owner) return problem(400, "One or more validation errors occurred.", undefined, { owner_id: ["owner_id is required"] });
      const sources = owner === "demo_operator:demo_brand"
        ? [{ owner_id: owner, source_id: "sitewide-casino", source_name: "Sitewide casino", instance_ids: [DEMO_INSTANCE.id] }]
        : [];
      return json(200, sources);
    }
    if (path[2] === "instances" && path[3] === "source" && path[5] === "brand" && path.length === 7) {
      const [sourceId, brandId] = [path[4], path[6]];
      const country = q.get("country_code");
      if (country !== null && !/^[A-Z]{2}$/.test(country)) {
        return problem(400, "One or more validation errors occurred.", undefined, { country_code: ["must be an ISO 3166-1 alpha-2 code"] });
      }
      const instance = [...this.instances.values()].find((i) => i.allowed_sources.includes(sourceId) && i.allowed_brands.includes(brandId));
      if (!instance) return notFound(`no instance for source ${sourceId} of brand ${brandId}`);
      const playerId = q.get("player_id");
      if (playerId === null) return json(200, instance);
      const opted = this.optIns.get(playerId)?.get(instance.id);
      const optIn = opted === undefined ? null : {
        opted_in: opted, preferred_contribution_value: 0.1, preferred_currency: "EUR",
        contribution_count: 0, contribution_value: 0, last_updated: 1767225600000,
      };
      return json(200, { ...instance, opt_in: optIn });
    }
    if (path[2] === "instances" && path.length === 4) {
      // What a proxy in front of ThrillConnect answers when ThrillConnect is down: no problem document.
      if (path[3] === "behind-a-dead-proxy") {
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<html><body>502 Bad Gateway</body></html>");
        return;
      }
      const instance = this.instances.get(path[3]);
      return instance ? json(200, instance) : notFound(`no instance ${path[3]}`);
    }
    return notFound(`no route ${url.pathname}`);
  }
}

export const DEMO_INSTANCE_ID = DEMO_INSTANCE.id;
