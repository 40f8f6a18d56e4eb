// Shared plumbing of the OAuth peer scripts: arguments, the one JSON line, exit codes.
//
// Exit codes (as the gRPC peers in ../node and ../python): 0 = the observation matches
// expectations, 1 = it does not (reason in the JSON line's "error" and on stderr),
// 2 = usage or setup error (bad arguments, a missing npm package).

export class Mismatch extends Error {}

export function expect(cond, what) {
  if (!cond) throw new Mismatch(what);
}

/** Parses `--name value` pairs; `spec` maps each allowed name to its default (undefined = required). */
export function parseArgs(argv, spec) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') ? a.slice(2) : null;
    if (name === null || !(name in spec)) throw new Error(`unknown argument ${a}`);
    if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
    args[name] = argv[++i];
  }
  for (const [name, def] of Object.entries(spec)) {
    if (args[name] === undefined) {
      if (def === undefined) throw new Error(`--${name} is required`);
      args[name] = def;
    }
  }
  return args;
}

/** Loads the npm packages after argument parsing, so a missing `npm ci` is a setup error (exit 2). */
export async function load(...names) {
  const mods = [];
  for (const n of names) {
    try {
      mods.push(await import(n));
    } catch (e) {
      throw new Error(`cannot load npm package ${n} (${e.code ?? e.message}): run \`npm ci\` in tests/interop`);
    }
  }
  return mods;
}

/** The issuer as given, without trailing slashes: the base the README's endpoint paths hang off. */
export const base = (issuer) => issuer.replace(/\/+$/, '');

/** RFC 6749 §2.3.1: client_id and secret are form-urlencoded before they go into HTTP Basic. */
export function basicAuth(clientId, clientSecret) {
  const enc = (s) => new URLSearchParams({ v: s }).toString().slice(2); // the WHATWG urlencoded serializer
  return 'Basic ' + Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64');
}

/** A short, loggable summary of an error thrown by openid-client / oauth4webapi / jose / fetch. */
export function describeError(e) {
  if (!e || typeof e !== 'object') return { message: String(e) };
  const d = { name: e.name, message: e.message };
  for (const k of ['code', 'error', 'error_description', 'status', 'claim', 'reason']) {
    if (e[k] !== undefined) d[k] = e[k];
  }
  // oauth4webapi's ResponseBodyError keeps the parsed body in cause; WWWAuthenticateChallengeError the challenges.
  if (e.cause !== undefined) {
    try {
      d.cause = JSON.parse(JSON.stringify(e.cause instanceof Error ? describeError(e.cause) : e.cause));
    } catch {
      d.cause = String(e.cause);
    }
  }
  if (e.response && typeof e.response.status === 'number') d.status = e.response.status;
  return d;
}

/** The OAuth error code of a failed token request, whichever error class carried it. */
export function oauthErrorCode(e) {
  if (e?.error) return e.error;
  if (e?.cause?.error) return e.cause.error;
  // WWWAuthenticateChallengeError: cause = [{scheme, parameters: {error?}}]
  if (Array.isArray(e?.cause)) for (const c of e.cause) if (c?.parameters?.error) return c.parameters.error;
  return undefined;
}

/** Runs `body(obs)`, prints obs as one JSON line and exits 0/1/2. */
export async function run(peer, body) {
  const obs = { peer, ok: false };
  let code = 0;
  try {
    await body(obs);
    obs.ok = true;
  } catch (e) {
    obs.error = e instanceof Mismatch ? e.message : `${e?.name ?? 'Error'}: ${e?.message ?? e}`;
    if (!(e instanceof Mismatch)) obs.error_detail = describeError(e);
    code = e instanceof Mismatch ? 1 : (obs.step ? 1 : 2);
    process.stderr.write(`${peer}: ${obs.error}\n`);
    if (e?.stack && !(e instanceof Mismatch)) process.stderr.write(`${e.stack}\n`);
  }
  process.stdout.write(JSON.stringify(obs) + '\n');
  process.exitCode = code;
}

/** Records which step is running, so a thrown transport error says where it happened (and counts as a mismatch). */
export function step(obs, name) {
  obs.step = name;
}

/** Awaits `promise`, which must reject; returns the error. */
export async function mustFail(promise, what) {
  try {
    const r = await promise;
    throw new Mismatch(`${what} succeeded, want an error (got ${r && typeof r === 'object' ? `an object with ${Object.keys(r).join(', ')}` : String(r)})`);
  } catch (e) {
    if (e instanceof Mismatch) throw e;
    return e;
  }
}

export function scopes(s) {
  return typeof s === 'string' ? s.split(' ').filter(Boolean) : [];
}
