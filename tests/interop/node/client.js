#!/usr/bin/env node
'use strict';
// Independent gRPC client (npm @grpc/grpc-js) for the Diagnostics service.
//
// usage: node client.js --target 127.0.0.1:PORT --case CASE
//
// Runs one case against a server speaking thrillsuite.diagnostics.v1.Diagnostics
// over insecure h2c, prints one JSON line with what it observed, and exits 0 when
// the observation matches expectations, 1 when it does not (the reason is in the
// JSON line's "error" and on stderr), 2 on a usage or setup error.
const crypto = require('crypto');

const PEER = 'node-grpc-js';
const CASES = ['unary', 'streaming', 'deadline', 'error', 'large', 'unimplemented'];
const KIB = 1024;
const MIB = 1024 * 1024;
const CALL_TIMEOUT_MS = 10000; // no case may hang the harness
const ERROR_DETAIL = 'no such jackpot: \u00fc\u2713'; // "no such jackpot: ü✓"

class Mismatch extends Error {}

function expect(cond, what) {
  if (!cond) throw new Mismatch(what);
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--target' || a === '--case') {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      args[a.slice(2)] = argv[++i];
    } else {
      throw new Error(`unknown argument ${a}`);
    }
  }
  if (!args.target) throw new Error('--target is required');
  if (!CASES.includes(args.case)) throw new Error(`--case must be one of ${CASES.join(', ')}`);
  return args;
}

function knownBytes(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

const digest = (b) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);

let grpc;
let proto;

function statusName(code) {
  for (const [name, value] of Object.entries(grpc.status)) if (value === code) return name;
  return String(code);
}

const deadlineIn = (ms) => new Date(Date.now() + ms);

function newClient(target, options = {}) {
  return new proto.Diagnostics(target, grpc.credentials.createInsecure(), options);
}

function unary(client, method, req, md = new grpc.Metadata(), options = {}) {
  return new Promise((resolve) => {
    client[method](req, md, { deadline: deadlineIn(CALL_TIMEOUT_MS), ...options },
      (err, reply) => resolve({ err, reply }));
  });
}

/** Awaits a call that must fail; records status/details/elapsed in obs under prefix. */
async function expectRpcError(fn, obs, prefix = '') {
  const t0 = process.hrtime.bigint();
  const { err, reply } = await fn();
  obs[`${prefix}elapsed_ms`] = Number((process.hrtime.bigint() - t0) / 1000000n);
  if (!err) {
    obs[`${prefix}status`] = 'OK';
    throw new Mismatch(`${prefix}call succeeded (reply ${reply && reply.payload ? reply.payload.length : 0}-byte payload), want an error`);
  }
  obs[`${prefix}status`] = statusName(err.code);
  obs[`${prefix}details`] = err.details;
  return err;
}

function waitReady(client) {
  return new Promise((resolve, reject) => {
    client.waitForReady(deadlineIn(CALL_TIMEOUT_MS), (e) => (e ? reject(e) : resolve()));
  });
}

const cases = {
  async unary(target, obs) {
    const client = newClient(target);
    try {
      const payload = knownBytes(1 * KIB);
      const md = new grpc.Metadata();
      md.add('x-interop', 'node');
      md.add('authorization', 'Bearer t0k3n');
      const { err, reply } = await unary(client, 'Echo', { message: 'hello', payload }, md);
      if (err) throw new Mismatch(`Echo failed with ${statusName(err.code)}: ${err.details}`);
      const m = reply.metadata || {};
      Object.assign(obs, {
        status: 'OK', message: reply.message, payload_len: reply.payload.length,
        payload_sha: digest(reply.payload), metadata: m,
        authorization_present: reply.authorization_present, service: reply.service,
      });
      expect(reply.message === 'hello', `message ${JSON.stringify(reply.message)}, want "hello"`);
      expect(Buffer.from(reply.payload).equals(payload),
        `payload differs (${reply.payload.length} bytes back, want ${payload.length})`);
      expect(m['x-interop'] === 'node', `metadata['x-interop'] = ${JSON.stringify(m['x-interop'])}, want "node"`);
      expect(reply.authorization_present === true, 'authorization_present false, want true');
      expect(!Object.prototype.hasOwnProperty.call(m, 'authorization'), "'authorization' leaked into reply.metadata");
    } finally {
      client.close();
    }
  },

  async streaming(target, obs) {
    const client = newClient(target);
    try {
      const indices = [];
      const status = await new Promise((resolve) => {
        const call = client.Count({ count: 5, interval_ms: 10 }, new grpc.Metadata(),
          { deadline: deadlineIn(CALL_TIMEOUT_MS) });
        call.on('data', (r) => indices.push(r.index));
        call.on('error', () => {}); // the status event carries the outcome
        call.on('status', resolve);
      });
      Object.assign(obs, { indices, status: statusName(status.code) });
      if (status.code !== grpc.status.OK) obs.details = status.details;
      expect(JSON.stringify(indices) === '[0,1,2,3,4]', `indices ${JSON.stringify(indices)}, want [0,1,2,3,4]`);
      expect(status.code === grpc.status.OK, `final status ${statusName(status.code)} (${status.details}), want OK`);
    } finally {
      client.close();
    }
  },

  async deadline(target, obs) {
    const client = newClient(target);
    try {
      // connect first so the 200 ms budget measures the call, not the TCP/h2 handshake
      await waitReady(client);
      const err = await expectRpcError(
        () => unary(client, 'Echo', { message: 'slow', delay_ms: 2000 }, new grpc.Metadata(),
          { deadline: deadlineIn(200) }), obs);
      expect(err.code === grpc.status.DEADLINE_EXCEEDED, `status ${statusName(err.code)}, want DEADLINE_EXCEEDED`);
      expect(obs.elapsed_ms < 1500, `took ${obs.elapsed_ms} ms, want < 1500 ms`);
    } finally {
      client.close();
    }
  },

  async error(target, obs) {
    const client = newClient(target);
    try {
      const err = await expectRpcError(
        () => unary(client, 'Echo', { message: 'x', fail_with_status: 5, fail_message: ERROR_DETAIL }), obs);
      expect(err.code === grpc.status.NOT_FOUND, `status ${statusName(err.code)}, want NOT_FOUND`);
      expect(err.details === ERROR_DETAIL, `details ${JSON.stringify(err.details)}, want ${JSON.stringify(ERROR_DETAIL)}`);
    } finally {
      client.close();
    }
  },

  async large(target, obs) {
    const client = newClient(target, {
      'grpc.max_receive_message_length': 8 * MIB,
      'grpc.max_send_message_length': 8 * MIB,
    });
    try {
      const big = knownBytes(3 * MIB);
      const { err, reply } = await unary(client, 'Echo', { message: '3MiB', payload: big });
      if (err) throw new Mismatch(`3 MiB echo failed with ${statusName(err.code)}: ${err.details}`);
      Object.assign(obs, { ok3_payload_len: reply.payload.length, ok3_payload_sha: digest(reply.payload) });
      expect(Buffer.from(reply.payload).equals(big),
        `3 MiB echo: ${reply.payload.length} bytes back, want ${big.length} identical bytes`);
      const huge = knownBytes(5 * MIB);
      const e5 = await expectRpcError(() => unary(client, 'Echo', { message: '5MiB', payload: huge }), obs, 'big5_');
      expect(e5.code === grpc.status.RESOURCE_EXHAUSTED,
        `5 MiB request: status ${statusName(e5.code)} (${e5.details}), want RESOURCE_EXHAUSTED`);
    } finally {
      client.close();
    }
  },

  async unimplemented(target, obs) {
    const client = newClient(target);
    try {
      const echo = proto.methods.Echo;
      const err = await expectRpcError(() => new Promise((resolve) => {
        client.makeUnaryRequest(proto.NOPE, echo.requestSerialize, echo.responseDeserialize,
          { message: 'x' }, new grpc.Metadata(), { deadline: deadlineIn(CALL_TIMEOUT_MS) },
          (e, reply) => resolve({ err: e, reply }));
      }), obs);
      expect(err.code === grpc.status.UNIMPLEMENTED, `status ${statusName(err.code)}, want UNIMPLEMENTED`);
    } finally {
      client.close();
    }
  },
};

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`usage: node client.js --target HOST:PORT --case {${CASES.join('|')}}\n${e.message}`);
    return 2;
  }
  const result = { peer: PEER, case: args.case, target: args.target, ok: false };
  try {
    grpc = require('@grpc/grpc-js');
    const dp = require('./diagproto');
    proto = { ...dp.load(), NOPE: dp.NOPE };
  } catch (e) {
    result.error = `setup: ${e.message} (run npm ci in tests/interop)`;
    console.log(JSON.stringify(result));
    console.error(result.error);
    return 2;
  }
  const obs = {};
  try {
    await cases[args.case](args.target, obs);
    result.ok = true;
  } catch (e) {
    result.error = e instanceof Mismatch ? e.message : `unexpected ${e.name}: ${e.message}`;
  }
  result.observed = obs;
  console.log(JSON.stringify(result));
  if (!result.ok) console.error(`FAIL ${PEER}/${args.case} against ${args.target}: ${result.error}`);
  return result.ok ? 0 : 1;
}

main().then((code) => { process.exitCode = code; });
