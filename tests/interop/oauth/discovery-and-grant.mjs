#!/usr/bin/env node
// Independent OAuth 2.0 client (npm openid-client v6, and oauth4webapi directly) against an
// authorization server: discovery, client-credentials grant, refresh-token rotation and reuse detection.
//
// usage: node discovery-and-grant.mjs --issuer URL --client-id ID --client-secret SECRET
//                                     [--scope "a:b:read offline_access"]
//
// Prints one JSON line with what it observed; exit 0 = as expected, 1 = mismatch (reason in "error"),
// 2 = usage/setup error. Expectations (RFC 6749 §4.4, §5.2, §6, §10.4; RFC 8414; OAuth 2.0 Security BCP
// RFC 9700 §4.14.2 refresh-token rotation with reuse detection):
//   - discovery (OpenID metadata, then RFC 8414 metadata) names this issuer and the grants/auth methods;
//   - client_credentials with client_secret_basic and scope incl. offline_access gives a Bearer access
//     token and a refresh token;
//   - refresh_token grant gives a new access token and a different (rotated) refresh token;
//   - reusing the old refresh token gives invalid_grant, and then the new one does too (family revoked);
//   - a wrong client secret gives 401 invalid_client;
//   - oauth4webapi with client_secret_post and no offline_access gets an access token and no refresh token.
import { base, expect, load, mustFail, oauthErrorCode, describeError, parseArgs, run, scopes, step } from './common.mjs';

await run('openid-client', async (obs) => {
  const args = parseArgs(process.argv.slice(2), {
    issuer: undefined,
    'client-id': undefined,
    'client-secret': undefined,
    scope: 'offline_access',
  });
  const [client, oauth] = await load('openid-client', 'oauth4webapi');
  const issuer = new URL(args.issuer);
  const requested = scopes(args.scope);
  expect(requested.includes('offline_access'), '--scope must include offline_access (the refresh steps need a refresh token)');

  // 1. Discovery: openid-client's default resolves {issuer}/.well-known/openid-configuration and checks `issuer`.
  step(obs, 'discovery');
  const config = await client.discovery(issuer, args['client-id'], args['client-secret'],
    client.ClientSecretBasic(args['client-secret']), { execute: [client.allowInsecureRequests], timeout: 10 });
  const md = config.serverMetadata();
  obs.discovery = {
    issuer: md.issuer,
    token_endpoint: md.token_endpoint,
    jwks_uri: md.jwks_uri,
    introspection_endpoint: md.introspection_endpoint,
    revocation_endpoint: md.revocation_endpoint,
    grant_types_supported: md.grant_types_supported,
    token_endpoint_auth_methods_supported: md.token_endpoint_auth_methods_supported,
  };
  expect(md.token_endpoint === `${base(args.issuer)}/oauth/token`, `token_endpoint is ${md.token_endpoint}, want ${base(args.issuer)}/oauth/token`);
  for (const g of ['client_credentials', 'refresh_token'])
    expect(md.grant_types_supported?.includes(g), `grant_types_supported ${JSON.stringify(md.grant_types_supported)} lacks ${g}`);
  for (const m of ['client_secret_basic', 'client_secret_post'])
    expect(md.token_endpoint_auth_methods_supported?.includes(m),
      `token_endpoint_auth_methods_supported ${JSON.stringify(md.token_endpoint_auth_methods_supported)} lacks ${m}`);

  // 2. Client credentials, client_secret_basic (openid-client form-urlencodes id and secret, RFC 6749 §2.3.1).
  step(obs, 'client_credentials');
  const first = await client.clientCredentialsGrant(config, { scope: args.scope });
  obs.client_credentials = summary(first);
  expect(first.token_type === 'bearer', `token_type ${first.token_type}, want Bearer`);
  expect(typeof first.expires_in === 'number' && first.expires_in > 0, `expires_in ${first.expires_in}, want a positive number`);
  expect(typeof first.refresh_token === 'string' && first.refresh_token.length > 0,
    `no refresh_token although scope "${args.scope}" includes offline_access`);
  const granted = scopes(first.scope);
  for (const s of requested.filter((x) => x !== 'offline_access'))
    expect(granted.includes(s), `granted scope "${first.scope}" lacks requested ${s}`);

  // 3. Refresh: a new access token and a rotated refresh token.
  step(obs, 'refresh');
  const second = await client.refreshTokenGrant(config, first.refresh_token);
  obs.refresh = summary(second);
  expect(typeof second.refresh_token === 'string' && second.refresh_token.length > 0, 'refresh grant returned no refresh_token (want rotation)');
  expect(second.refresh_token !== first.refresh_token, 'refresh grant returned the same refresh_token (want a rotated one)');
  expect(second.access_token !== first.access_token, 'refresh grant returned the same access_token');
  expect(second.token_type === 'bearer', `token_type ${second.token_type}, want Bearer`);
  obs.refresh.rotated = true;

  // 4. Reuse of the rotated-out refresh token: invalid_grant (RFC 6749 §5.2), and the family is revoked.
  step(obs, 'reuse_old_refresh_token');
  const reuse = await mustFail(client.refreshTokenGrant(config, first.refresh_token), 'reusing the old refresh token');
  obs.reuse_old = errorSummary(reuse);
  expect(oauthErrorCode(reuse) === 'invalid_grant', `reusing the old refresh token: ${JSON.stringify(obs.reuse_old)}, want invalid_grant`);
  expect(obs.reuse_old.status === 400, `reusing the old refresh token answered HTTP ${obs.reuse_old.status}, want 400 (RFC 6749 §5.2)`);

  step(obs, 'new_refresh_token_after_reuse');
  const after = await mustFail(client.refreshTokenGrant(config, second.refresh_token), 'the new refresh token after reuse of the old one');
  obs.reuse_new = errorSummary(after);
  expect(oauthErrorCode(after) === 'invalid_grant',
    `the new refresh token after reuse of the old one: ${JSON.stringify(obs.reuse_new)}, want invalid_grant (family revoked)`);

  // 5. Wrong secret, both authentication methods: 401 invalid_client (RFC 6749 §5.2).
  step(obs, 'wrong_secret');
  obs.wrong_secret = {};
  for (const [name, auth] of [['client_secret_basic', client.ClientSecretBasic], ['client_secret_post', client.ClientSecretPost]]) {
    const bad = new client.Configuration(md, args['client-id'], args['client-secret'] + 'x', auth(args['client-secret'] + 'x'));
    client.allowInsecureRequests(bad);
    const e = await mustFail(client.clientCredentialsGrant(bad, { scope: args.scope }), `client_credentials with a wrong secret (${name})`);
    const s = obs.wrong_secret[name] = errorSummary(e);
    expect(s.status === 401, `wrong secret (${name}) answered HTTP ${s.status}, want 401 invalid_client`);
    // With Basic the server answers a WWW-Authenticate challenge, which oauth4webapi raises before reading the body.
    if (name === 'client_secret_post')
      expect(oauthErrorCode(e) === 'invalid_client', `wrong secret (${name}): ${JSON.stringify(s)}, want invalid_client`);
    else
      expect(oauthErrorCode(e) === 'invalid_client' || e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE',
        `wrong secret (${name}): ${JSON.stringify(s)}, want invalid_client or a Basic challenge`);
  }

  // 6. oauth4webapi on its own: RFC 8414 metadata, client_secret_post, no offline_access -> no refresh token.
  step(obs, 'oauth4webapi');
  const as = await oauth.processDiscoveryResponse(issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
  expect(as.token_endpoint === md.token_endpoint,
    `oauth-authorization-server token_endpoint ${as.token_endpoint} differs from openid-configuration's ${md.token_endpoint}`);
  expect(as.jwks_uri === md.jwks_uri, `oauth-authorization-server jwks_uri ${as.jwks_uri} differs from openid-configuration's ${md.jwks_uri}`);
  const plainScope = requested.filter((x) => x !== 'offline_access').join(' ');
  const params = plainScope ? { scope: plainScope } : {};
  const response = await oauth.clientCredentialsGrantRequest(as, { client_id: args['client-id'] },
    oauth.ClientSecretPost(args['client-secret']), params, { [oauth.allowInsecureRequests]: true });
  const cacheControl = response.headers.get('cache-control');
  const third = await oauth.processClientCredentialsResponse(as, { client_id: args['client-id'] }, response);
  obs.oauth4webapi = { ...summary(third), cache_control: cacheControl, metadata_issuer: as.issuer };
  expect(third.token_type === 'bearer', `token_type ${third.token_type}, want Bearer`);
  expect(third.refresh_token === undefined, 'client_credentials without offline_access returned a refresh_token');
  expect(/\bno-store\b/i.test(cacheControl ?? ''), `token response Cache-Control "${cacheControl}", want no-store (RFC 6749 §5.1)`);
  delete obs.step;
});

function summary(t) {
  return {
    token_type: t.token_type,
    expires_in: t.expires_in,
    scope: t.scope,
    has_refresh_token: typeof t.refresh_token === 'string',
    access_token_segments: typeof t.access_token === 'string' ? t.access_token.split('.').length : 0,
  };
}

function errorSummary(e) {
  const d = describeError(e);
  return { name: d.name, code: d.code, error: oauthErrorCode(e), error_description: e?.error_description ?? e?.cause?.error_description, status: d.status };
}
