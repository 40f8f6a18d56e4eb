import WebSocket from "ws";
import { ThrillConnectClient, type ThrillConnectEventMap, type ThrillConnectOptions, type Timers } from "@thrillsuite/thrillconnect";

/** The next `name` event whose arguments satisfy `accept`; resolves with its arguments. */
export function next<K extends keyof ThrillConnectEventMap>(
  client: ThrillConnectClient,
  name: K,
  accept: (...args: Parameters<ThrillConnectEventMap[K]>) => boolean = () => true,
): Promise<Parameters<ThrillConnectEventMap[K]>> {
  return new Promise((resolve) => {
    const off = client.on(name, ((...args: Parameters<ThrillConnectEventMap[K]>) => {
      if (!accept(...args)) return;
      off();
      resolve(args);
    }) as ThrillConnectEventMap[K]);
  });
}

/** Every `name` event's arguments, as they come. */
export function record<K extends keyof ThrillConnectEventMap>(
  client: ThrillConnectClient,
  name: K,
): Parameters<ThrillConnectEventMap[K]>[] {
  const seen: Parameters<ThrillConnectEventMap[K]>[] = [];
  client.on(name, ((...args: Parameters<ThrillConnectEventMap[K]>) => {
    seen.push(args);
  }) as ThrillConnectEventMap[K]);
  return seen;
}

/**
 * Timers that record every delay the client asks for and fire at once (on the next macrotask), so a test of the
 * backoff sees the delays without waiting them out.
 */
export function instantTimers(): Timers & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    setTimeout(callback, ms) {
      delays.push(ms);
      return setTimeout(callback, 0);
    },
    clearTimeout(handle) {
      clearTimeout(handle as NodeJS.Timeout);
    },
  };
}

/** A demo_player_1 client on the fake; `options` override any setting. */
export function playerClient(baseUrl: string, options: Record<string, unknown> = {}): ThrillConnectClient {
  return new ThrillConnectClient({
    baseUrl,
    operatorId: "demo_operator",
    brandId: "demo_brand",
    token: "demo_token_1",
    currency: "EUR",
    WebSocket,
    ...options,
  } as ThrillConnectOptions);
}
