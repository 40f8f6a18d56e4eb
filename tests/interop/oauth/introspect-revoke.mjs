#!/usr/bin/env node
// Token introspection (RFC 7662) and revocation (RFC 7009) with nothing but fetch, as a hand-written
// client in any language would do it.
//
// usage: node introspect-revoke.mjs --issuer URL --client-id ID --client-secret SECRET [--scope "a:b:read"]
//
// Steps and expectations:
//   - GET {issuer}/.well-known/oauth-authorization-server (RFC 8414 §3) names the endpoints;
//   - client_credentials (client_secret_post) gives an access token, Cache-Control: no-store (RFC 6749 §5.1);
//   - introspection (client_secret_basic) says active: true with scope, client_id, exp, and the token's jti;
//   - introspection without client authentication is refused with 401 (RFC 7662 §2.1 "MUST require ... authorization");
//   - revocation with token_type_hint=access_token answers 200 (RFC 7009 §2.2), and introspection then
//     says exactly {active: false} (RFC 7662 §2.2);
//   - revoking an unknown token answers 200 too (RFC 7009 §2.2: invalid tokens do not cause an error);
//   - with offline_access: revoking the refresh token (hint refresh_token) makes a refresh grant with it
//     fail with invalid_grant.
// Prints one JSON line; exit 0 = as expected, 1 = mismatch, 2 = usage/setup error.
import { base, basicAuth, expect, parseArgs, run, scopes, step } from './common.mjs';

await run('fetch', async (obs) => {
  const args = parseArgs(process.argv.slice(2), {
    issuer: undefined,
    'client-id': undefined,
    'client-secret': undefined,
    scope: '',
  });
  const id = args['client-id'];
  const secret = args['client-secret'];
  const basic = { authorization: basicAuth(id, secret) };

  step(obs, 'metadata');
  const mdResponse = await fetch(`${base(args.issuer)}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(10000) });
  expect(mdResponse.status === 200, `GET /.well-known/oauth-authorization-server answered ${mdResponse.status}`);
  const md = await mdResponse.json();
  obs.metadata = {
    issuer: md.issuer,
    token_endpoint: md.token_endpoint,
    introspection_endpoint: md.introspection_endpoint,
    revocation_endpoint: md.revocation_endpoint,
  };
  for (const k of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint'])
    expect(typeof md[k] === 'string' && md[k].startsWith(base(args.issuer)), `metadata ${k} is ${md[k]}`);

  step(obs, 'token');
  const tok = await form(md.token_endpoint, { grant_type: 'client_credentials', client_id: id, client_secret: secret, ...(args.scope ? { scope: args.scope } : {}) });
  obs.token = { status: tok.status, cache_control: tok.headers.get('cache-control'), content_type: tok.headers.get('content-type'), token_type: tok.json?.token_type, scope: tok.json?.scope };
  expect(tok.status === 200 && typeof tok.json?.access_token === 'string', `token request answered ${tok.status} ${tok.text.slice(0, 300)}`);
  expect(/\bno-store\b/i.test(obs.token.cache_control ?? ''), `token response Cache-Control "${obs.token.cache_control}", want no-store (RFC 6749 §5.1)`);
  expect(/^application\/json\b/i.test(obs.token.content_type ?? ''), `token response Content-Type "${obs.token.content_type}", want application/json`);
  expect(/^bearer$/i.test(tok.json.token_type ?? ''), `token_type ${tok.json.token_type}, want Bearer`);
  const accessToken = tok.json.access_token;
  const jti = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()).jti;

  step(obs, 'introspect_active');
  const i1 = await form(md.introspection_endpoint, { token: accessToken }, basic);
  obs.introspect_active = { status: i1.status, ...pick(i1.json, ['active', 'scope', 'client_id', 'token_type', 'sub', 'org_id', 'iss', 'aud']), exp_in_future: i1.json?.exp > Date.now() / 1000, jti_matches: i1.json?.jti === jti };
  expect(i1.status === 200, `introspection answered ${i1.status} ${i1.text.slice(0, 300)}`);
  expect(i1.json.active === true, `introspection of a fresh token says active: ${JSON.stringify(i1.json.active)}, want true`);
  expect(typeof i1.json.scope === 'string', `introspection has no scope string: ${i1.text.slice(0, 300)}`);
  for (const s of scopes(args.scope).filter((x) => x !== 'offline_access')) expect(scopes(i1.json.scope).includes(s), `introspected scope "${i1.json.scope}" lacks requested ${s}`);
  expect(i1.json.client_id === id, `introspected client_id ${i1.json.client_id}, want ${id}`);
  expect(obs.introspect_active.exp_in_future, `introspected exp ${i1.json.exp} is not in the future`);
  expect(obs.introspect_active.jti_matches, `introspected jti ${i1.json.jti}, the token says ${jti}`);

  step(obs, 'introspect_unauthenticated');
  const i0 = await form(md.introspection_endpoint, { token: accessToken });
  obs.introspect_unauthenticated = { status: i0.status, error: i0.json?.error, leaked_active: i0.json?.active };
  expect(i0.status === 401, `introspection without client authentication answered ${i0.status} ${i0.text.slice(0, 200)}, want 401`);

  step(obs, 'revoke');
  const r1 = await form(md.revocation_endpoint, { token: accessToken, token_type_hint: 'access_token' }, basic);
  obs.revoke = { status: r1.status };
  expect(r1.status === 200, `revocation answered ${r1.status} ${r1.text.slice(0, 300)}, want 200`);

  step(obs, 'introspect_revoked');
  const i2 = await form(md.introspection_endpoint, { token: accessToken }, basic);
  obs.introspect_revoked = { status: i2.status, body: i2.json };
  expect(i2.status === 200, `introspection after revocation answered ${i2.status} ${i2.text.slice(0, 300)}`);
  expect(i2.json.active === false, `introspection after revocation says active: ${JSON.stringify(i2.json.active)}, want false`);
  expect(Object.keys(i2.json).length === 1, `inactive introspection carries more than active: ${i2.text.slice(0, 300)}`);

  step(obs, 'revoke_unknown');
  const r2 = await form(md.revocation_endpoint, { token: 'not-a-token-' + Date.now() }, basic);
  obs.revoke_unknown = { status: r2.status };
  expect(r2.status === 200, `revoking an unknown token answered ${r2.status} ${r2.text.slice(0, 300)}, want 200 (RFC 7009 §2.2)`);

  step(obs, 'revoke_refresh_token');
  const withRefresh = [...new Set([...scopes(args.scope), 'offline_access'])].join(' ');
  const t2 = await form(md.token_endpoint, { grant_type: 'client_credentials', scope: withRefresh }, basic);
  expect(t2.status === 200 && typeof t2.json?.refresh_token === 'string', `client_credentials with offline_access answered ${t2.status} ${t2.text.slice(0, 300)}, want a refresh_token`);
  const r3 = await form(md.revocation_endpoint, { token: t2.json.refresh_token, token_type_hint: 'refresh_token' }, basic);
  const g = await form(md.token_endpoint, { grant_type: 'refresh_token', refresh_token: t2.json.refresh_token }, basic);
  obs.revoke_refresh_token = { revoke_status: r3.status, refresh_status: g.status, refresh_error: g.json?.error };
  expect(r3.status === 200, `revoking a refresh token answered ${r3.status}, want 200`);
  expect(g.status === 400 && g.json?.error === 'invalid_grant', `refresh with a revoked refresh token answered ${g.status} ${g.text.slice(0, 300)}, want 400 invalid_grant`);
  delete obs.step;
});

async function form(url, fields, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    body: new URLSearchParams(fields).toString(),
    signal: AbortSignal.timeout(10000),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

function pick(o, keys) {
  const r = {};
  for (const k of keys) if (o && o[k] !== undefined) r[k] = o[k];
  return r;
}
