// The ThrillConnect demo page: the demo jackpots of demo_operator:demo_brand (one per demo source) as one of the demo
// players, with their pots ticking, an opt-in switch each and the brand's wins. ThrillConnect serves this page itself,
// so the client needs no baseUrl: REST goes to /v1/... and the WebSocket to ws(s)://<this host>/v1/events/...
import { ThrillConnectClient } from "./lib/thrillconnect.js";

const OPERATOR_ID = "demo_operator";
const BRAND_ID = "demo_brand";
const OWNER_ID = `${OPERATOR_ID}:${BRAND_ID}`;
// The sources build/demo-data creates, each feeding one jackpot.
const SOURCE_IDS = ["sitewide-casino", "live-casino", "vip-slots"];
const CURRENCY = "EUR";
const COUNTRY = "MT";
const MAX_WINS = 20;

const byTestId = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);
const ui = {
  player: byTestId("player"),
  status: byTestId("status"),
  jackpots: byTestId("jackpots"),
  wins: byTestId("wins"),
};

/** One section per source: its elements (data-testid jackpot-<source>). */
const sections = SOURCE_IDS.map((sourceId) => {
  const root = document.getElementById("jackpot").content.firstElementChild.cloneNode(true);
  root.dataset.testid = `jackpot-${sourceId}`;
  root.querySelector(".source-id").textContent = sourceId;
  ui.jackpots.append(root);
  return {
    sourceId,
    root,
    name: byTestId("jackpot-name", root),
    pots: byTestId("pots", root),
    toggle: byTestId("optin-toggle", root),
    optInState: byTestId("optin-state", root),
    optInError: byTestId("optin-error", root),
    optInRequired: root.querySelector(".optin-required"),
  };
});

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

function showOptIn(section, optedIn) {
  section.toggle.checked = optedIn;
  section.optInState.dataset.state = optedIn ? "in" : "out";
  section.optInState.textContent = optedIn ? "opted in" : "opted out";
}

function showOptInError(section, message) {
  section.optInError.hidden = !message;
  section.optInError.textContent = message ?? "";
}

/** Pots from the REST instance document or a JackpotUpdate: the player's currency when the update carries it. */
function renderPots(section, update) {
  const currency = update.player_currency ?? update.currency;
  const seen = new Set();
  for (const pot of update.pots) {
    seen.add(pot.id);
    let value = section.pots.querySelector(`[data-testid="pot-${CSS.escape(pot.id)}"]`);
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
      section.pots.append(item);
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
  for (const item of [...section.pots.children]) {
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
  const current = { client, playerId, jackpots: sections.map((section) => ({ section, instance: null, optedIn: false, busy: false })) };
  const previous = session;
  session = current;
  previous?.client.close();
  const active = () => session === current;
  // Handlers of a replaced player's client (its `closed`, a late answer) must not touch the page.
  const on = (name, handler) => client.on(name, (...args) => active() && handler(...args));
  const byInstance = (id) => current.jackpots.find((j) => j.instance?.id === id);

  ui.wins.replaceChildren();
  for (const jackpot of current.jackpots) {
    jackpot.section.pots.replaceChildren();
    jackpot.section.name.textContent = "Jackpot";
    showOptIn(jackpot.section, false);
    showOptInError(jackpot.section, null);
    updateToggle(jackpot);
  }

  function updateToggle(jackpot) {
    if (active()) jackpot.section.toggle.disabled = !(jackpot.instance && client.status === "open" && !jackpot.busy);
  }

  async function loadInstance(jackpot) {
    const { section } = jackpot;
    try {
      const instance = await client.getInstanceBySource(section.sourceId, OWNER_ID, { playerId, countryCode: COUNTRY });
      if (!active()) return;
      jackpot.instance = instance;
      section.name.textContent = instance.name;
      section.optInRequired.hidden = !instance.opt_in_required;
      renderPots(section, instance);
      if (!jackpot.busy) {
        jackpot.optedIn = instance.opt_in?.opted_in ?? false;
        showOptIn(section, jackpot.optedIn);
      }
    } catch (error) {
      if (active()) showOptInError(section, `could not load the jackpot of ${section.sourceId}: ${error.message}`);
    }
    updateToggle(jackpot);
  }
  const loadAll = () => Promise.all(current.jackpots.map(loadInstance));
  const updateToggles = () => current.jackpots.forEach(updateToggle);

  on("status", (status) => {
    if (status === "connecting") setStatus(status, "connecting…");
    if (status === "open") setStatus(status, `connected as ${playerId}`);
    updateToggles();
  });
  on("reconnecting", ({ attempt, delayMs, code }) => {
    setStatus("reconnecting", `connection lost (${code}); reconnecting in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})`);
  });
  on("closed", ({ code, reason }) => {
    setStatus("closed", `closed: ${code} ${reason}`.trim());
  });
  // After a reconnect the opt-ins may have changed elsewhere; the pots come again with the re-sent subscription.
  on("open", ({ reconnected }) => {
    if (reconnected) loadAll();
  });
  on("JackpotUpdate", (update) => {
    const jackpot = byInstance(update.id);
    if (jackpot) renderPots(jackpot.section, update);
  });
  // The server sends a player connection only its own OptInEvents.
  on("OptInEvent", (event) => {
    const jackpot = byInstance(event.instance_id);
    if (!jackpot || jackpot.busy) return;
    jackpot.optedIn = event.opted_in;
    showOptIn(jackpot.section, event.opted_in);
  });
  on("WinEvent", (win) => {
    addWin(win, playerId);
    // A win may end the instance and the source then feeds a new one: ask again which instance to show.
    const jackpot = byInstance(win.instance_id);
    if (jackpot) loadInstance(jackpot);
  });

  client.subscribe([
    { source: "thrillpots", event_type: "JackpotUpdate" },
    { source: "thrillpots", event_type: "WinEvent" },
    { source: "thrillpots", event_type: "OptInEvent" },
  ]);
  // The pots the subscription pushes are shown only for known instances, so the REST reads go first.
  loadAll().then(() => {
    // Rejects only when this player was replaced before the socket opened: nothing to do then.
    if (active()) client.connect().catch(() => {});
  });

  current.toggle = async (jackpot) => {
    const { section } = jackpot;
    const wanted = section.toggle.checked;
    jackpot.busy = true;
    showOptInError(section, null);
    updateToggle(jackpot);
    try {
      const response = await client.optIn({
        instance_id: jackpot.instance.id,
        player_id: playerId,
        brand_id: OWNER_ID,
        player_country: COUNTRY,
        opt_in: wanted,
      });
      jackpot.optedIn = response.opted_in;
    } catch (error) {
      if (active()) showOptInError(section, `opt-${wanted ? "in" : "out"} failed (${error.code}): ${error.message}`);
    } finally {
      jackpot.busy = false;
      // The switch shows the confirmed state: the answer's, or the previous one after a failure.
      if (active()) showOptIn(section, jackpot.optedIn);
      updateToggle(jackpot);
    }
  };
}

sections.forEach((section, i) => section.toggle.addEventListener("change", () => session?.toggle(session.jackpots[i])));
ui.player.addEventListener("change", () => start(ui.player.value));
addEventListener("pagehide", () => session?.client.close());
// A page restored from the back/forward cache had its connection closed on the way out.
addEventListener("pageshow", (event) => event.persisted && start(ui.player.value));

// ?player=2 preselects a player (handy for links and browser tests).
const requested = new URLSearchParams(location.search).get("player");
if (requested && [...ui.player.options].some((o) => o.value === requested)) ui.player.value = requested;
start(ui.player.value);
