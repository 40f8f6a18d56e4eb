/**
 * ThrillConnect client: the player and service WebSockets (subscriptions, typed events, opt-in requests answered by
 * request_id, reconnect with jittered exponential backoff) and the REST reads of ThrillConnect.
 *
 * The contract is services/ThrillConnect/README.md. Wire types keep the wire's snake_case names so that what you read
 * here is what you see in a frame. The module has no runtime dependencies: a browser imports it as is, Node 20 imports
 * it with `ws` injected as the WebSocket constructor.
 */

// ---------------------------------------------------------------------------------------------------- wire types

/** `msg_type` of a server → client envelope. */
export type MessageType = "Event" | "Message" | "Error";

/** Every frame the server sends (spec §2.4). `brand_id` is the bare brand; `player_id` is set on one player's messages. */
export interface Envelope<TData = unknown> {
  msg_type: MessageType;
  source: string;
  msg_name: string;
  operator_id: string;
  brand_id: string;
  player_id: string | null;
  data: TData;
  /** Unix milliseconds. */
  timestamp: number;
}

/** One entry of a SubscribeRequest: `event_type` is a `msg_name` of the source, or `"*"` for all of them. */
export interface Subscription {
  source: string;
  event_type: string;
}

export interface PotTicker {
  id: string;
  is_progressive: boolean;
  current_value: number;
  /** The pot in the player's currency (player connections only). */
  player_value?: number;
}

/** A player's opt-in state as the instance document carries it (REST with `player_id`). */
export interface InstanceOptIn {
  opted_in: boolean;
  preferred_contribution_value: number | null;
  preferred_currency: string | null;
  contribution_count: number;
  contribution_value: number;
  last_updated: number;
}

/** JackpotUpdate's `data` (spec §9.1). */
export interface JackpotUpdate {
  id: string;
  name?: string;
  jackpot_type: "Jackpot" | "Raffle" | string;
  currency: string;
  pots: PotTicker[];
  allowed_brands: string[];
  allowed_sources: string[];
  status: string;
  timestamp_start: number | null;
  timestamp_end: number | null;
  last_updated: number;
  /** The player's currency (player connections only); each pot then has `player_value`. */
  player_currency?: string;
}

/** The instance document of the REST API: JackpotUpdate's fields plus what a widget needs. */
export interface InstanceDocument extends JackpotUpdate {
  name: string;
  opt_in_required: boolean;
  default_contribution_value: number | null;
  /** Present when asked with `player_id`; `null` when that player never opted. */
  opt_in?: InstanceOptIn | null;
}

export interface CurrencyMultipliers {
  brand_id: string;
  base_currency: string;
  multipliers: Record<string, number>;
}

export interface PayoutRecord {
  player_id: string;
  brand_id: string;
  currency: string;
  win_amount: number;
}

/** WinEvent's `data` (spec §9.2). */
export interface WinEvent {
  brand_id: string;
  player_id: string;
  source_id: string;
  instance_id: string;
  jackpot_name: string;
  jackpot_currency: string;
  timestamp: number;
  win_pot_id: string;
  currency_multipliers: CurrencyMultipliers;
  win_withheld: boolean;
  community_winners: PayoutRecord[];
  games_in_jackpot: string[];
  seed: number;
  metadata: Record<string, unknown> | null;
  /** The player's currency and the win in it (player connections only). */
  player_currency?: string;
  player_value?: number;
}

/** OptInEvent's `data` (spec §9.3). */
export interface OptInEvent {
  instance_id: string;
  player_id: string;
  ext_player_id: string;
  player_brand_id: string;
  preferred_contribution_value: number;
  contribution_count: number;
  contribution_value: number;
  opted_in: boolean;
  last_updated: number;
}

/**
 * PlayerOptInResponse's `data`: "the opt-in state plus the request_id echoed". The contract does not spell the state's
 * fields out, so only `opted_in` is relied on; the rest is typed as OptInEvent's fields, all optional.
 */
export interface PlayerOptInResponse extends Partial<OptInEvent> {
  opted_in: boolean;
  request_id?: string;
  [field: string]: unknown;
}

/** `data` of an `Error` envelope. */
export interface ErrorData {
  code: string;
  message: string;
  request_id?: string;
}

/** `freespin_type` of a player bonus: the fixed variant (count, used, value) or the variable one (amount, amount_used). */
export type PlayerFreeSpinType =
  | { type: "PlayerFixedFreeSpins"; count: number; used: number; currency: string; value: number }
  | { type: "PlayerVariableFreeSpins"; amount: number; amount_used: number; currency: string };

/**
 * `data` of the freebet events (source `thrillgate`: PlayerBonusAdded, PlayerBonusRemoved, PlayerBonusUpdated,
 * PlayerBonusConsumed, PlayerBonusExpired), sent to the player the bonus belongs to.
 */
export interface PlayerBonus {
  id: string;
  promo_id: string | null;
  bonus_instance_id: string | null;
  available_for: { provider_id: string; game_ids: string[] }[];
  bonus_data: { Freespins: { id: string; name: string; freespin_type: PlayerFreeSpinType } };
  /** `Removed` after an operator's removal (ThrillSuite). */
  state: "Available" | "Consumed" | "Expired" | "Removed";
  timestamp_bonus_awarded: number;
  timestamp_bonus_expires: number;
  timestamp_bonus_consumed: number | null;
}

/** Any other event's `data` (RaffleWinEvent, ...): dispatched by `msg_name` untyped. */
export type GenericEventData = Record<string, unknown>;

/** `{"PlayerOptInRequest": ...}` without `request_id`, which the client adds. */
export interface PlayerOptInRequest {
  instance_id: string;
  player_id: string;
  /** `operator:brand` */
  brand_id: string;
  /** ISO 3166-1 alpha-2 */
  player_country: string;
  opt_in: boolean;
  contribution_value?: number;
}

/** `{"PlayerOptInRequestV2": ...}` without `request_id`, which the client adds. */
export interface PlayerOptInRequestV2 {
  target: { type: "source" | "instance"; id: string };
  operator_id: string;
  /** `brand_id` is the bare brand here. */
  player: { id: string; country: string; brand_id: string };
  opt_in: boolean;
  contribution_value?: number;
  opt_linked?: boolean;
}

export interface CurrenciesDocument {
  last_updated: number;
  base_currency: string;
  multipliers: Record<string, number>;
}

export interface SourceDocument {
  owner_id: string;
  source_id: string;
  source_name: string;
  instance_ids: string[];
}

/** An RFC 7807 problem document, as ThrillConnect answers errors. */
export interface ProblemDocument {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  /** Validation problems name the invalid parameters here. */
  errors?: Record<string, string[]>;
  [field: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------- errors

/** An error of the client: a server `Error` answer (its `code`), a timeout, a closed connection or an HTTP problem. */
export class ThrillConnectError extends Error {
  /** The server's code (`invalid_request`, `not_found`, ...) or the client's (`timeout`, `not_connected`, ...). */
  readonly code: string;
  /** The request this error answers, when it answers one. */
  readonly requestId: string | undefined;
  /** The envelope's `msg_name` for server errors (the request's name, or `InvalidMessage`). */
  readonly msgName: string | undefined;

  constructor(code: string, message: string, details: { requestId?: string; msgName?: string } = {}) {
    super(message);
    this.name = "ThrillConnectError";
    this.code = code;
    this.requestId = details.requestId;
    this.msgName = details.msgName;
  }
}

/** A REST call answered with a non-2xx status; `code` is `http_<status>`. */
export class ThrillConnectHttpError extends ThrillConnectError {
  readonly status: number;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  /** The problem document, when the body was one (otherwise undefined). */
  readonly problem: ProblemDocument | undefined;

  constructor(status: number, message: string, problem: ProblemDocument | undefined) {
    super(`http_${status}`, message);
    this.name = "ThrillConnectHttpError";
    this.status = status;
    this.problem = problem;
    this.title = problem?.title;
    this.detail = problem?.detail;
  }
}

// ---------------------------------------------------------------------------------------------------- options

/**
 * The part of a WebSocket the client uses; the browser's WebSocket and `ws` both fit. Event parameters are `any`
 * because the two declare different event classes for the same fields (`data`, `code`, `reason`).
 */
export interface WebSocketLike {
  readonly readyState: number;
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The part of a fetch Response the REST helpers use. */
export interface FetchResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  text(): Promise<string>;
}

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string> },
) => Promise<FetchResponseLike>;

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ReconnectOptions {
  /** The delay before the first retry, before jitter. Default 500 ms. */
  initialDelayMs?: number;
  /** The cap of the delay, before jitter. Default 30 000 ms. */
  maxDelayMs?: number;
  /** Each failed attempt multiplies the delay by this. Default 2. */
  factor?: number;
  /** The fraction of the delay that is random: the delay lies in [base × (1 − jitter), base]. Default 0.5. */
  jitter?: number;
  /**
   * A connection that received a message or stayed open this long proved itself: the next retry starts from
   * `initialDelayMs` again. (A refused connection is accepted and closed at once, so "it opened" proves nothing.)
   * Default 10 000 ms.
   */
  stableAfterMs?: number;
}

interface CommonOptions {
  /**
   * `http(s)://host[:port][/prefix]` of ThrillConnect (or of the edge in front of it); the WebSocket URL is derived from
   * it (`ws(s)://`). Omitted in a browser: REST paths are relative (`/v1/...`) and the WebSocket goes to the page's own
   * host (`ws(s)://location.host`), which suits a page served by ThrillConnect itself.
   */
  baseUrl?: string;
  /** Default: the global `WebSocket` (browsers, Node ≥ 22). In Node 20 pass `ws`'s WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** `false`: never reconnect. */
  reconnect?: ReconnectOptions | false;
  /** How long optIn/optInV2 wait for their answer. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** For tests: the source of jitter (default Math.random), the clock (default Date.now) and the timers. */
  random?: () => number;
  now?: () => number;
  timers?: Timers;
}

/** A player's connection: `/v1/events/{operatorId}/{brandId}?token=&currency=`. */
export interface PlayerConnectionOptions extends CommonOptions {
  operatorId: string;
  /** The bare brand (not `operator:brand`). */
  brandId: string;
  /** The player's session token, checked by the operator's wallet. */
  token: string;
  /** The player's ISO 4217 currency: amounts also come converted to it (`player_value`). */
  currency: string;
}

/** A back-end service's connection: `/v1/events/service?token=` with a Thrill-ID JWT granting `thrillconnect:events:read`. */
export interface ServiceConnectionOptions extends CommonOptions {
  serviceToken: string;
}

export type ThrillConnectOptions = PlayerConnectionOptions | ServiceConnectionOptions | CommonOptions;

// ---------------------------------------------------------------------------------------------------- events

export type ConnectionStatus = "idle" | "connecting" | "open" | "reconnecting" | "closed";

export interface ReconnectingInfo {
  /** 1 for the first retry after a connection that proved itself, then 2, 3, ... */
  attempt: number;
  delayMs: number;
  /** Why the previous connection ended. */
  code: number;
  reason: string;
}

export interface ClosedInfo {
  code: number;
  reason: string;
}

/** Handlers by event name. Any other name is a `msg_name` handled as `(data: GenericEventData, envelope) => void`. */
export interface ThrillConnectEventMap {
  JackpotUpdate: (data: JackpotUpdate, envelope: Envelope<JackpotUpdate>) => void;
  WinEvent: (data: WinEvent, envelope: Envelope<WinEvent>) => void;
  OptInEvent: (data: OptInEvent, envelope: Envelope<OptInEvent>) => void;
  PlayerOptInResponse: (data: PlayerOptInResponse, envelope: Envelope<PlayerOptInResponse>) => void;
  PlayerBonusAdded: (data: PlayerBonus, envelope: Envelope<PlayerBonus>) => void;
  PlayerBonusRemoved: (data: PlayerBonus, envelope: Envelope<PlayerBonus>) => void;
  PlayerBonusUpdated: (data: PlayerBonus, envelope: Envelope<PlayerBonus>) => void;
  PlayerBonusConsumed: (data: PlayerBonus, envelope: Envelope<PlayerBonus>) => void;
  PlayerBonusExpired: (data: PlayerBonus, envelope: Envelope<PlayerBonus>) => void;
  /** Every frame the server sends, before it is dispatched. */
  envelope: (envelope: Envelope) => void;
  /** The socket opened and the subscriptions were sent; `reconnected` is false for the first connection. */
  open: (info: { reconnected: boolean }) => void;
  /** The connection ended and a retry is scheduled. */
  reconnecting: (info: ReconnectingInfo) => void;
  /** The client stopped for good: a close code meaning "do not retry as is" (4400, 4401, 4403, 4404), or close(). */
  closed: (info: ClosedInfo) => void;
  status: (status: ConnectionStatus) => void;
  /** A server `Error` that answers no pending request (e.g. `InvalidMessage`), or a frame that is not JSON. */
  error: (error: ThrillConnectError) => void;
}

/**
 * Close codes after which reconnecting with the same settings cannot succeed: bad parameters, token refused, origin
 * not allowed, brand without a wallet. Every other close (1001 going away, 1006 abnormal, 1011 server error, 4408 too
 * slow, 4429 rate limited, ...) is retried with backoff.
 */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([4400, 4401, 4403, 4404]);

// ---------------------------------------------------------------------------------------------------- client

interface Environment {
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  location?: { protocol: string; host: string };
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  reportError?: (error: unknown) => void;
  console?: { error(...args: unknown[]): void };
}

// The module is built against ES2022 only, so the host's globals are reached through one typed view.
const env = globalThis as unknown as Environment;

interface PendingRequest {
  resolve(data: PlayerOptInResponse): void;
  reject(error: ThrillConnectError): void;
  timer: unknown;
}

type Handler = (...args: never[]) => void;

const CLIENT_EVENTS: ReadonlySet<string> = new Set(["envelope", "open", "reconnecting", "closed", "status", "error"]);

const OPEN = 1; // WebSocket.OPEN, the same in browsers and ws

export class ThrillConnectClient {
  private readonly options: ThrillConnectOptions;
  private readonly reconnectOptions: Required<ReconnectOptions> | false;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly subscriptions: Subscription[] = [];
  private readonly pending = new Map<string, PendingRequest>();
  private readonly requestPrefix: string;
  private requestSeq = 0;

  private socket: WebSocketLike | null = null;
  private currentStatus: ConnectionStatus = "idle";
  private reconnectTimer: unknown = null;
  /** Consecutive connections that ended without proving themselves. */
  private failures = 0;
  private openedAt = 0;
  private receivedOnSocket = false;
  private everOpened = false;
  private connectWaiters: { resolve(): void; reject(error: ThrillConnectError): void }[] = [];

  constructor(options: ThrillConnectOptions) {
    this.options = options;
    this.reconnectOptions =
      options.reconnect === false
        ? false
        : {
            initialDelayMs: 500,
            maxDelayMs: 30_000,
            factor: 2,
            jitter: 0.5,
            stableAfterMs: 10_000,
            ...options.reconnect,
          };
    this.timers = options.timers ?? {
      setTimeout: (callback, ms) => env.setTimeout(callback, ms),
      clearTimeout: (handle) => env.clearTimeout(handle),
    };
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    // request_id only has to be unique among this client's pending requests; the prefix tells clients apart in logs.
    // (crypto.randomUUID is missing on plain-http pages, so it is not used.)
    this.requestPrefix = Math.floor(Math.random() * 2 ** 32).toString(36);
  }

  /** The connection's state: idle → connecting → open → (reconnecting → connecting → open)* → closed. */
  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  // ------------------------------------------------------------------------------------------- events

  /** Registers a handler; returns the function that removes it. */
  on<K extends keyof ThrillConnectEventMap>(name: K, handler: ThrillConnectEventMap[K]): () => void;
  on(name: string, handler: (data: GenericEventData, envelope: Envelope<GenericEventData>) => void): () => void;
  on(name: string, handler: Handler): () => void {
    let set = this.handlers.get(name);
    if (!set) {
      set = new Set();
      this.handlers.set(name, set);
    }
    set.add(handler);
    return () => {
      this.handlers.get(name)?.delete(handler);
    };
  }

  private emit(name: string, ...args: unknown[]): void {
    const set = this.handlers.get(name);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        (handler as (...a: unknown[]) => void)(...args);
      } catch (error) {
        // One handler's bug must neither break the connection nor starve the other handlers.
        if (env.reportError) env.reportError(error);
        else env.console?.error("ThrillConnect handler failed:", error);
      }
    }
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.currentStatus === status) return;
    this.currentStatus = status;
    this.emit("status", status);
  }

  // ------------------------------------------------------------------------------------------- connection

  /**
   * Opens the WebSocket. Resolves once it is open and the subscriptions were sent (a refused token shows up after
   * that, as a `closed` event: the server accepts and then closes). While the server cannot be reached it keeps
   * retrying; it rejects only if the client is closed before any connection opened.
   */
  connect(): Promise<void> {
    if (!("token" in this.options) && !("serviceToken" in this.options)) {
      return Promise.reject(
        new ThrillConnectError("no_credentials", "a WebSocket needs player (token, currency) or service (serviceToken) settings"),
      );
    }
    if (this.currentStatus === "open") return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    if (this.currentStatus === "idle" || this.currentStatus === "closed") {
      this.everOpened = false;
      this.failures = 0;
      this.openSocket();
    }
    return opened;
  }

  /** Closes the connection for good (code 1000): no reconnect, pending requests are rejected, `closed` is emitted. */
  close(): void {
    if (this.currentStatus === "closed" || this.currentStatus === "idle") return;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "client closed");
    this.finish(1000, "client closed");
  }

  private webSocketUrl(): string {
    let origin: string;
    if (this.options.baseUrl !== undefined) {
      origin = trimSlash(this.options.baseUrl).replace(/^http/i, "ws");
    } else if (env.location) {
      origin = `${env.location.protocol === "https:" ? "wss" : "ws"}://${env.location.host}`;
    } else {
      throw new ThrillConnectError("no_base_url", "baseUrl is required outside a browser page");
    }
    if ("serviceToken" in this.options) {
      return `${origin}/v1/events/service${queryString({ token: this.options.serviceToken })}`;
    }
    const player = this.options as PlayerConnectionOptions;
    const query = queryString({ token: player.token, currency: player.currency });
    return `${origin}/v1/events/${segment(player.operatorId)}/${segment(player.brandId)}${query}`;
  }

  private openSocket(): void {
    this.reconnectTimer = null;
    const WebSocketImpl = this.options.WebSocket ?? env.WebSocket;
    if (!WebSocketImpl) {
      this.finish(1006, "no WebSocket implementation: pass options.WebSocket");
      return;
    }
    this.setStatus("connecting");
    let socket: WebSocketLike;
    try {
      socket = new WebSocketImpl(this.webSocketUrl());
    } catch (error) {
      // A malformed URL: retrying cannot help.
      this.finish(1006, error instanceof Error ? error.message : String(error));
      return;
    }
    this.socket = socket;
    this.receivedOnSocket = false;
    // Handlers check they still belong to the current socket: an old socket's late events must change nothing.
    socket.onopen = () => {
      if (socket === this.socket) this.handleOpen();
    };
    socket.onmessage = (event: { data: unknown }) => {
      if (socket === this.socket) this.handleFrame(event.data);
    };
    socket.onclose = (event: { code: number; reason: string }) => {
      if (socket === this.socket) this.handleClose(event.code, event.reason);
    };
    // A failed connection is reported by the close event (1006) that follows; the error event carries nothing more.
    socket.onerror = () => {};
  }

  private handleOpen(): void {
    this.openedAt = this.now();
    const reconnected = this.everOpened;
    this.everOpened = true;
    // The server starts every connection without subscriptions: the whole list goes again after a reconnect.
    if (this.subscriptions.length > 0) this.sendSubscribe(this.subscriptions);
    this.setStatus("open");
    for (const waiter of this.connectWaiters.splice(0)) waiter.resolve();
    this.emit("open", { reconnected });
  }

  private handleClose(code: number, reason: string): void {
    this.socket = null;
    this.rejectPending("connection_closed", `the connection closed (${code} ${reason}) before the answer came`);
    const settings = this.reconnectOptions;
    if (!settings || FINAL_CLOSE_CODES.has(code)) {
      this.finish(code, reason);
      return;
    }
    const proved = this.receivedOnSocket || (this.openedAt > 0 && this.now() - this.openedAt >= settings.stableAfterMs);
    this.openedAt = 0;
    this.failures = proved ? 1 : this.failures + 1;
    const base = Math.min(settings.maxDelayMs, settings.initialDelayMs * settings.factor ** (this.failures - 1));
    const delayMs = Math.round(base * (1 - settings.jitter * this.random()));
    this.setStatus("reconnecting");
    this.reconnectTimer = this.timers.setTimeout(() => this.openSocket(), delayMs);
    this.emit("reconnecting", { attempt: this.failures, delayMs, code, reason });
  }

  /** The end of the client's life (until connect() again). */
  private finish(code: number, reason: string): void {
    if (this.reconnectTimer !== null) {
      this.timers.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    this.rejectPending("connection_closed", `the connection closed (${code} ${reason}) before the answer came`);
    this.setStatus("closed");
    const error = new ThrillConnectError("closed", `closed before a connection opened (${code} ${reason})`);
    for (const waiter of this.connectWaiters.splice(0)) waiter.reject(error);
    this.emit("closed", { code, reason });
  }

  // ------------------------------------------------------------------------------------------- frames

  private handleFrame(raw: unknown): void {
    this.receivedOnSocket = true;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(String(raw)) as Envelope;
    } catch {
      this.emit("error", new ThrillConnectError("invalid_frame", "the server sent a frame that is not JSON"));
      return;
    }
    if (typeof envelope !== "object" || envelope === null) return;
    this.emit("envelope", envelope);

    const data = (envelope.data ?? {}) as Record<string, unknown>;
    const requestId = typeof data.request_id === "string" ? data.request_id : undefined;
    const pending = requestId === undefined ? undefined : this.pending.get(requestId);

    if (envelope.msg_type === "Error") {
      const error = new ThrillConnectError(
        typeof data.code === "string" ? data.code : "unknown_error",
        typeof data.message === "string" ? data.message : `${envelope.msg_name} failed`,
        { requestId, msgName: envelope.msg_name },
      );
      if (pending) {
        this.settle(requestId!);
        pending.reject(error);
      } else {
        this.emit("error", error);
      }
      return;
    }
    if (pending && envelope.msg_type === "Message") {
      this.settle(requestId!);
      pending.resolve(data as PlayerOptInResponse);
    }
    // The client's own event names are lower case and never server msg_names; a frame must not fake them.
    if (!CLIENT_EVENTS.has(envelope.msg_name)) this.emit(envelope.msg_name, envelope.data, envelope);
  }

  // ------------------------------------------------------------------------------------------- requests

  /**
   * Adds subscriptions (the server's are additive). They are remembered and sent again after every reconnect; sent
   * now when the connection is open, else on open.
   */
  subscribe(events: Subscription[]): void {
    const added = events.filter(
      (e) => !this.subscriptions.some((s) => s.source === e.source && s.event_type === e.event_type),
    );
    if (added.length === 0) return;
    this.subscriptions.push(...added.map((e) => ({ source: e.source, event_type: e.event_type })));
    if (this.currentStatus === "open") this.sendSubscribe(added);
  }

  /** The subscriptions the client keeps (and re-sends after a reconnect). */
  get subscribed(): readonly Subscription[] {
    return this.subscriptions.map((s) => ({ ...s }));
  }

  private sendSubscribe(events: Subscription[]): void {
    this.socket?.send(JSON.stringify({ SubscribeRequest: { events } }));
  }

  /** Opts the player in or out (v1). Resolves with PlayerOptInResponse's data; rejects with a ThrillConnectError. */
  optIn(request: PlayerOptInRequest, options: { timeoutMs?: number } = {}): Promise<PlayerOptInResponse> {
    return this.request("PlayerOptInRequest", request, options.timeoutMs);
  }

  /** Opts the player in or out of a source's or an instance's jackpot (v2, with `opt_linked`). */
  optInV2(request: PlayerOptInRequestV2, options: { timeoutMs?: number } = {}): Promise<PlayerOptInResponse> {
    return this.request("PlayerOptInRequestV2", request, options.timeoutMs);
  }

  private request(name: string, body: object, timeoutMs?: number): Promise<PlayerOptInResponse> {
    const socket = this.socket;
    if (this.currentStatus !== "open" || !socket || socket.readyState !== OPEN) {
      // Not queued: a request sent much later than the user asked (after a reconnect) would surprise more than help.
      return Promise.reject(new ThrillConnectError("not_connected", `${name} needs an open connection (status: ${this.currentStatus})`));
    }
    const requestId = `${this.requestPrefix}-${++this.requestSeq}`;
    const timeout = timeoutMs ?? this.options.requestTimeoutMs ?? 10_000;
    return new Promise<PlayerOptInResponse>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        if (!this.pending.delete(requestId)) return;
        reject(new ThrillConnectError("timeout", `no answer to ${name} within ${timeout} ms`, { requestId, msgName: name }));
      }, timeout);
      this.pending.set(requestId, { resolve, reject, timer });
      socket.send(JSON.stringify({ [name]: { ...body, request_id: requestId } }));
    });
  }

  private settle(requestId: string): void {
    const pending = this.pending.get(requestId);
    if (!pending) return;
    this.timers.clearTimeout(pending.timer);
    this.pending.delete(requestId);
  }

  private rejectPending(code: string, message: string): void {
    for (const [requestId, pending] of [...this.pending]) {
      this.settle(requestId);
      pending.reject(new ThrillConnectError(code, message, { requestId }));
    }
  }

  // ------------------------------------------------------------------------------------------- REST

  /** The instance the brand's source feeds; with `playerId`, its `opt_in` is that player's state. `brandId` is `operator:brand`. */
  getInstanceBySource(
    sourceId: string,
    brandId: string,
    options: { playerId?: string; countryCode?: string } = {},
  ): Promise<InstanceDocument> {
    return this.get(`/v1/thrillpots/instances/source/${segment(sourceId)}/brand/${segment(brandId)}`, {
      player_id: options.playerId,
      country_code: options.countryCode,
    });
  }

  getInstance(instanceId: string): Promise<InstanceDocument> {
    return this.get(`/v1/thrillpots/instances/${segment(instanceId)}`, {});
  }

  /** The brand's multipliers (`operator:brand`), or the system's without a brand. */
  getCurrencies(brandId?: string): Promise<CurrenciesDocument> {
    return this.get("/v1/currencies", { brand_id: brandId });
  }

  /** The sources of an owner (`operator:brand`). */
  getSources(ownerId: string): Promise<SourceDocument[]> {
    return this.get("/v1/thrillpots/sources", { owner_id: ownerId });
  }

  private async get<T>(path: string, query: Record<string, string | undefined>): Promise<T> {
    const url = `${this.options.baseUrl === undefined ? "" : trimSlash(this.options.baseUrl)}${path}${queryString(query)}`;
    const fetchImpl: FetchLike | undefined = this.options.fetch ?? (env.fetch ? (u, init) => env.fetch!(u, init) : undefined);
    if (!fetchImpl) throw new ThrillConnectError("no_fetch", "no fetch implementation: pass options.fetch");
    const response = await fetchImpl(url, { method: "GET", headers: { accept: "application/json" } });
    const text = await response.text();
    if (!response.ok) throw httpError(response, text);
    return JSON.parse(text) as T;
  }
}

// ---------------------------------------------------------------------------------------------------- helpers

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** A path segment; `:` stays as is, so `operator:brand` reads as documented and no proxy has to decode %3A. */
function segment(value: string): string {
  return encodeURIComponent(value).replace(/%3A/gi, ":");
}

/** `?a=1&b=2` of the defined values, or "" (URLSearchParams is not in the ES library this module is built against). */
function queryString(query: Record<string, string | undefined>): string {
  const pairs = Object.entries(query)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value!)}`);
  return pairs.length > 0 ? `?${pairs.join("&")}` : "";
}

function httpError(response: FetchResponseLike, body: string): ThrillConnectHttpError {
  let problem: ProblemDocument | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) problem = parsed as ProblemDocument;
  } catch {
    // Not JSON (a proxy's error page, say): the message uses the text.
  }
  let message = `${response.status} ${problem?.title ?? response.statusText}`.trim();
  if (problem?.detail) message += `: ${problem.detail}`;
  if (problem?.errors) {
    message += ` (${Object.entries(problem.errors)
      .map(([field, messages]) => `${field}: ${[messages].flat().join(" ")}`)
      .join("; ")})`;
  }
  if (!problem && body.trim()) message += `: ${body.trim().slice(0, 200)}`;
  return new ThrillConnectHttpError(response.status, message, problem);
}
