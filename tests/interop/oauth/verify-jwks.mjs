#!/usr/bin/env node
// Independent JWT verification (npm jose) of an access token against the authorization server's
// published JWKS, the way a resource server outside ThrillSuite would do it.
//
// usage: node verify-jwks.mjs --issuer URL --client-id ID --client-secret SECRET
//                             [--scope "a:b:read"] [--audience thrillsuite]
//
// Gets a token with openid-client (discovery + client_credentials, client_secret_post), then:
//   - jose.createRemoteJWKSet(jwks_uri) + jwtVerify(token, {issuer, audience, algorithms: [ES256, RS256]})
//     succeeds; the header's kid names a key of the JWKS whose alg/use match (RFC 7515 §4.1.4, RFC 7517 §4);
//   - the claims carry org_id, scope, client_id, sub, exp/iat/nbf, jti;
//   - a copy with one payload character changed fails (ERR_JWS_SIGNATURE_VERIFICATION_FAILED), and so does
//     a copy whose decoded payload says another org_id;
//   - verifying with a wrong audience or a wrong issuer fails (ERR_JWT_CLAIM_VALIDATION_FAILED).
// Prints one JSON line; exit 0 = as expected, 1 = mismatch, 2 = usage/setup error.
import { expect, load, mustFail, parseArgs, run, scopes, step } from './common.mjs';

await run('jose', async (obs) => {
  const args = parseArgs(process.argv.slice(2), {
    issuer: undefined,
    'client-id': undefined,
    'client-secret': undefined,
    scope: '',
    audience: 'thrillsuite',
  });
  const [client, jose] = await load('openid-client', 'jose');

  step(obs, 'token');
  const config = await client.discovery(new URL(args.issuer), args['client-id'], args['client-secret'],
    client.ClientSecretPost(args['client-secret']), { execute: [client.allowInsecureRequests], timeout: 10 });
  const md = config.serverMetadata();
  expect(typeof md.jwks_uri === 'string', 'discovery has no jwks_uri');
  const tokens = await client.clientCredentialsGrant(config, args.scope ? { scope: args.scope } : {});
  const token = tokens.access_token;
  expect(token.split('.').length === 3, `access token is not a JWS compact serialization (${token.split('.').length} segments)`);

  // The JWKS as published (and as jose will fetch it).
  step(obs, 'jwks');
  const jwksResponse = await fetch(md.jwks_uri, { signal: AbortSignal.timeout(10000) });
  expect(jwksResponse.ok, `GET ${md.jwks_uri} answered ${jwksResponse.status}`);
  const jwks = await jwksResponse.json();
  expect(Array.isArray(jwks.keys) && jwks.keys.length > 0, `JWKS has no keys: ${JSON.stringify(jwks).slice(0, 300)}`);
  obs.jwks = {
    uri: md.jwks_uri,
    content_type: jwksResponse.headers.get('content-type'),
    keys: jwks.keys.map((k) => ({ kid: k.kid, kty: k.kty, alg: k.alg, use: k.use, crv: k.crv, private_parts: ['d', 'p', 'q', 'dp', 'dq', 'qi'].filter((p) => p in k) })),
  };
  for (const k of obs.jwks.keys)
    expect(k.private_parts.length === 0, `JWKS key ${k.kid} publishes private parameters ${k.private_parts.join(',')}`);

  step(obs, 'verify');
  const remote = jose.createRemoteJWKSet(new URL(md.jwks_uri), { timeoutDuration: 10000 });
  const options = { issuer: args.issuer, audience: args.audience, algorithms: ['ES256', 'RS256'] };
  const { payload, protectedHeader } = await jose.jwtVerify(token, remote, options);
  obs.header = { alg: protectedHeader.alg, kid: protectedHeader.kid, typ: protectedHeader.typ };
  obs.claims = {
    iss: payload.iss,
    aud: payload.aud,
    sub: payload.sub,
    org_id: payload.org_id,
    unit_ids: payload.unit_ids,
    scope: payload.scope,
    client_id: payload.client_id,
    account_type: payload.account_type,
    username: payload.username,
    has_jti: typeof payload.jti === 'string' && payload.jti.length > 0,
    lifetime_s: payload.exp - payload.iat,
    nbf_le_iat: payload.nbf === undefined || payload.nbf <= payload.iat,
  };
  const key = jwks.keys.find((k) => k.kid === protectedHeader.kid);
  expect(protectedHeader.kid && key, `header kid ${protectedHeader.kid} names no key of the JWKS (${obs.jwks.keys.map((k) => k.kid).join(', ')})`);
  expect(!key.alg || key.alg === protectedHeader.alg, `header alg ${protectedHeader.alg} but the JWKS key ${key.kid} says alg ${key.alg}`);
  expect(!key.use || key.use === 'sig', `JWKS key ${key.kid} has use ${key.use}, want sig`);
  expect(typeof payload.org_id === 'string' && payload.org_id, 'token has no org_id claim');
  expect(typeof payload.scope === 'string', 'token has no scope claim (a space-separated string)');
  expect(payload.client_id === args['client-id'], `client_id claim ${payload.client_id}, want ${args['client-id']}`);
  expect(typeof payload.sub === 'string' && payload.sub, 'token has no sub claim');
  expect(obs.claims.has_jti, 'token has no jti claim');
  for (const s of scopes(args.scope).filter((x) => x !== 'offline_access')) expect(scopes(payload.scope).includes(s), `scope claim "${payload.scope}" lacks requested ${s}`);
  if (tokens.scope !== undefined) obs.token_response_scope = tokens.scope;

  // Tampering: one character of the encoded payload, then a forged claim value with the original signature.
  step(obs, 'tampered');
  const [h, p, s] = token.split('.');
  const i = Math.floor(p.length / 2);
  const flipped = `${h}.${p.slice(0, i)}${p[i] === 'A' ? 'B' : 'A'}${p.slice(i + 1)}.${s}`;
  const e1 = await mustFail(jose.jwtVerify(flipped, remote, options), 'verifying a token with one payload character changed');
  const forgedPayload = jose.base64url.encode(JSON.stringify({ ...payload, org_id: `${payload.org_id}-other` }));
  const e2 = await mustFail(jose.jwtVerify(`${h}.${forgedPayload}.${s}`, remote, options), 'verifying a token with a forged org_id');
  obs.tampered = { one_char: e1.code, forged_org_id: e2.code };
  expect(e1.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', `one-character tamper failed with ${e1.code} (${e1.message}), want ERR_JWS_SIGNATURE_VERIFICATION_FAILED`);
  expect(e2.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', `forged org_id failed with ${e2.code} (${e2.message}), want ERR_JWS_SIGNATURE_VERIFICATION_FAILED`);

  step(obs, 'wrong_audience');
  const e3 = await mustFail(jose.jwtVerify(token, remote, { ...options, audience: `${args.audience}-other` }), 'verifying with a wrong audience');
  const e4 = await mustFail(jose.jwtVerify(token, remote, { ...options, issuer: 'http://issuer.invalid' }), 'verifying with a wrong issuer');
  obs.wrong_audience = { code: e3.code, claim: e3.claim };
  obs.wrong_issuer = { code: e4.code, claim: e4.claim };
  expect(e3.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && e3.claim === 'aud', `wrong audience failed with ${e3.code}/${e3.claim}, want ERR_JWT_CLAIM_VALIDATION_FAILED on aud`);
  expect(e4.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && e4.claim === 'iss', `wrong issuer failed with ${e4.code}/${e4.claim}, want ERR_JWT_CLAIM_VALIDATION_FAILED on iss`);
  delete obs.step;
});
