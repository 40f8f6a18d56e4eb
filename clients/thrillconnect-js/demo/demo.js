// The ThrillConnect demo page: the demo jackpot of source sitewide-casino for demo_operator:demo_brand as one of the
// demo players, with its pots ticking, an opt-in switch and the brand's wins. ThrillConnect serves this page itself,
// so the client needs no baseUrl: REST goes to /v1/... and the WebSocket to ws(s)://<this host>/v1/events/...
import { ThrillConnectClient } from "./lib/thrillconnect.js";

const OPERATOR_ID = "demo_operator";
const BRAND_ID = "demo_brand";
const OWNER_ID = `${OPERATOR_ID}:${BRAND_ID}`;
const SOURCE_ID = "sitewide-casino";
const CURRENCY = "EUR";
const COUNTRY = "MT";
const MAX_WINS = 20;

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const ui = {
  player: byTestId("player"),
  status: byTestId("status"),
  name: byTestId("jackpot-name"),
  pots: byTestId("pots"),
  toggle: byTestId("optin-toggle"),
  optInState: byTestId("optin-state"),
  optInError: byTestId("optin-error"),
  wins: byTestId("wins"),
};

/** The current player's session; everything below belongs to it and is replaced when the player changes. */
let session = null;

// A fixed locale, so the figures read the same in every browser (and in a browser test).
const formats = new Map();
function money(value, currency) {
  if (!formats.has(currency)) formats.set(currency, new Intl.NumberFormat("en-IE", { style: "currency", currency }));
  return formats.get(currency).format(value);
}

function setStatus(status, text) {
  ui.status.dataset.status = status;
  ui.status.textContent = text;
}

function showOptIn(optedIn) {
  ui.toggle.checked = optedIn;
  ui.optInState.dataset.state = optedIn ? "in" : "out";
  ui.optInState.textContent = optedIn ? "opted in" : "opted out";
}

function showOptInError(message) {
  ui.optInError.hidden = !message;
  ui.optInError.textContent = message ?? "";
}

/** Pots from the REST instance document or a JackpotUpdate: the player's currency when the update carries it. */
function renderPots(update) {
  const currency = update.player_currency ?? update.currency;
  const seen = new Set();
  for (const pot of update.pots) {
    seen.add(pot.id);
    let value = ui.pots.querySelector(`[data-testid="pot-${CSS.escape(pot.id)}"]`);
    if (!value) {
      const item = document.createElement("li");
      item.className = "pot";
      const name = document.createElement("span");
      name.className = "pot-name";
      name.textContent = pot.id;
      value = document.createElement("span");
      value.className = "pot-value";
      value.dataset.testid = `pot-${pot.id}`;
      item.append(name, value);
      ui.pots.append(item);
    }
    const text = money(pot.player_value ?? pot.current_value, currency);
    if (value.textContent !== text) {
      const ticked = value.textContent !== "";
      value.textContent = text;
      if (ticked) {
        // Restart the glow: remove the class, force a style flush, add it again.
        value.classList.remove("ticked");
        void value.offsetWidth;
        value.classList.add("ticked");
      }
    }
  }
  for (const item of [...ui.pots.children]) {
    const id = item.querySelector(".pot-value")?.dataset.testid?.slice("pot-".length);
    if (!seen.has(id)) item.remove();
  }
}

function addWin(win, playerId) {
  const item = document.createElement("li");
  if (win.player_id === playerId) item.classList.add("mine");
  const time = document.createElement("time");
  const at = new Date(win.timestamp ?? Date.now());
  time.dateTime = at.toISOString();
  time.textContent = at.toLocaleTimeString("en-IE");
  const amount = win.player_value === undefined ? "" : ` — ${money(win.player_value, win.player_currency ?? CURRENCY)}`;
  const withheld = win.win_withheld ? " (withheld)" : "";
  item.append(time, " ", `${win.player_id} won the ${win.win_pot_id} pot of ${win.jackpot_name}${amount}${withheld}`);
  ui.wins.prepend(item);
  while (ui.wins.children.length > MAX_WINS) ui.wins.lastElementChild.remove();
}

function start(playerNumber) {
  const playerId = `demo_player_${playerNumber}`;
  const client = new ThrillConnectClient({
    operatorId: OPERATOR_ID,
    brandId: BRAND_ID,
    token: `demo_token_${playerNumber}`,
    currency: CURRENCY,
  });
  const current = { client, playerId, instance: null, optedIn: false, busy: false };
  const previous = session;
  session = current;
  previous?.client.close();
  const active = () => session === current;
  // Handlers of a replaced player's client (its `closed`, a late answer) must not touch the page.
  const on = (name, handler) => client.on(name, (...args) => active() && handler(...args));

  ui.pots.replaceChildren();
  ui.wins.replaceChildren();
  ui.name.textContent = "Jackpot";
  showOptIn(false);
  showOptInError(null);
  updateToggle();

  function updateToggle() {
    if (active()) ui.toggle.disabled = !(current.instance && client.status === "open" && !current.busy);
  }

  async function loadInstance() {
    try {
      const instance = await client.getInstanceBySource(SOURCE_ID, OWNER_ID, { playerId, countryCode: COUNTRY });
      if (!active()) return;
      current.instance = instance;
      ui.name.textContent = instance.name;
      renderPots(instance);
      if (!current.busy) {
        current.optedIn = instance.opt_in?.opted_in ?? false;
        showOptIn(current.optedIn);
      }
    } catch (error) {
      if (active()) setStatus("error", `could not load the jackpot: ${error.message}`);
    }
    updateToggle();
  }

  on("status", (status) => {
    if (status === "connecting") setStatus(status, "connecting…");
    if (status === "open") setStatus(status, `connected as ${playerId}`);
    updateToggle();
  });
  on("reconnecting", ({ attempt, delayMs, code }) => {
    setStatus("reconnecting", `connection lost (${code}); reconnecting in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})`);
  });
  on("closed", ({ code, reason }) => {
    setStatus("closed", `closed: ${code} ${reason}`.trim());
  });
  // After a reconnect the opt-in may have changed elsewhere; the pots come again with the re-sent subscription.
  on("open", ({ reconnected }) => {
    if (reconnected || !current.instance) loadInstance();
  });
  on("JackpotUpdate", (update) => {
    if (update.id === current.instance?.id) renderPots(update);
  });
  // The server sends a player connection only its own OptInEvents.
  on("OptInEvent", (event) => {
    if (event.instance_id !== current.instance?.id || current.busy) return;
    current.optedIn = event.opted_in;
    showOptIn(event.opted_in);
  });
  on("WinEvent", (win) => {
    addWin(win, playerId);
    // A win may end the instance and the source then feeds a new one: ask again which instance to show.
    if (win.instance_id === current.instance?.id) loadInstance();
  });

  client.subscribe([
    { source: "thrillpots", event_type: "JackpotUpdate" },
    { source: "thrillpots", event_type: "WinEvent" },
    { source: "thrillpots", event_type: "OptInEvent" },
  ]);
  // The pots the subscription pushes are shown only for a known instance, so the REST read goes first.
  loadInstance().then(() => {
    // Rejects only when this player was replaced before the socket opened: nothing to do then.
    if (active()) client.connect().catch(() => {});
  });

  current.toggle = async () => {
    const wanted = ui.toggle.checked;
    current.busy = true;
    showOptInError(null);
    updateToggle();
    try {
      const response = await client.optIn({
        instance_id: current.instance.id,
        player_id: playerId,
        brand_id: OWNER_ID,
        player_country: COUNTRY,
        opt_in: wanted,
      });
      current.optedIn = response.opted_in;
    } catch (error) {
      if (active()) showOptInError(`opt-${wanted ? "in" : "out"} failed (${error.code}): ${error.message}`);
    } finally {
      current.busy = false;
      // The switch shows the confirmed state: the answer's, or the previous one after a failure.
      if (active()) showOptIn(current.optedIn);
      updateToggle();
    }
  };
}

ui.toggle.addEventListener("change", () => session?.toggle());
ui.player.addEventListener("change", () => start(ui.player.value));
addEventListener("pagehide", () => session?.client.close());
// A page restored from the back/forward cache had its connection closed on the way out.
addEventListener("pageshow", (event) => event.persisted && start(ui.player.value));

// ?player=2 preselects a player (handy for links and browser tests).
const requested = new URLSearchParams(location.search).get("player");
if (requested && [...ui.player.options].some((o) => o.value === requested)) ui.player.value = requested;
start(ui.player.value);
