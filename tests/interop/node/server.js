#!/usr/bin/env node
'use strict';
// Independent gRPC server (npm @grpc/grpc-js) implementing the Diagnostics service.
//
// usage: node server.js --port PORT   (0 picks a free port)
//
// Listens on 127.0.0.1 (insecure h2c), prints "READY <port>" on stdout once it
// accepts calls, and exits 0 on SIGTERM/SIGINT. The max receive message size is
// grpc-js's default (4 MiB).
const grpc = require('@grpc/grpc-js');
const diagproto = require('./diagproto');

const SERVICE_NAME = 'node-grpc-js';
const REDACTED = new Set(['authorization', 'cookie']);
const RESERVED = new Set(['user-agent', 'te', 'content-type', 'host', 'accept-encoding', 'content-encoding', 'content-length']);
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

const echoable = (key) =>
  !(REDACTED.has(key) || RESERVED.has(key) || key.startsWith('grpc-') || key.startsWith(':'));

/** Resolves true after ms, or false as soon as the call is cancelled (incl. its deadline passing). */
function waitCancellable(call, ms) {
  return new Promise((resolve) => {
    if (call.cancelled) return resolve(false);
    const onCancel = () => { clearTimeout(timer); resolve(false); };
    const timer = setTimeout(() => { call.removeListener('cancelled', onCancel); resolve(!call.cancelled); }, ms);
    call.once('cancelled', onCancel);
  });
}

async function echo(call, callback) {
  const req = call.request;
  const md = {};
  let auth = false;
  let traceId = '';
  const map = call.metadata.toJSON(); // key -> array of string|Buffer, keys lower-case
  for (const [key, values] of Object.entries(map)) {
    if (key === 'authorization') auth = true;
    if (key === 'traceparent') {
      const m = TRACEPARENT.exec(String(values[0]));
      if (m) traceId = m[1];
    }
    if (!echoable(key)) continue;
    md[key] = values
      .map((v) => (Buffer.isBuffer(v) ? v.toString('base64').replace(/=+$/, '') : v))
      .join(', ');
  }
  if (req.delay_ms > 0) {
    const t0 = Date.now();
    if (!(await waitCancellable(call, req.delay_ms))) {
      console.error(`echo: delay_ms=${req.delay_ms} cut short after ${Date.now() - t0} ms (call cancelled/deadline)`);
      return; // grpc-js has already ended the call
    }
  }
  if (req.fail_with_status !== 0) {
    const code = req.fail_with_status > 0 && req.fail_with_status <= 16 ? req.fail_with_status : grpc.status.UNKNOWN;
    return callback({ code, details: req.fail_message });
  }
  callback(null, {
    message: req.message,
    payload: req.payload,
    metadata: md,
    authorization_present: auth,
    service: SERVICE_NAME,
    trace_id: traceId,
  });
}

async function count(call) {
  const { count: n, interval_ms: interval } = call.request;
  for (let i = 0; i < n; i++) {
    if (i > 0 && interval > 0 && !(await waitCancellable(call, interval))) return;
    if (call.cancelled) return;
    call.write({ index: i });
  }
  call.end();
}

function main() {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('usage: node server.js --port PORT');
    process.exit(2);
  }
  const proto = diagproto.load();
  const server = new grpc.Server();
  server.addService(proto.Diagnostics.service, {
    Echo: (call, callback) => {
      echo(call, callback).catch((e) => callback({ code: grpc.status.INTERNAL, details: String(e) }));
    },
    Count: (call) => {
      count(call).catch((e) => call.destroy(e));
    },
  });
  server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
    if (err) {
      console.error(`cannot bind 127.0.0.1:${port}: ${err.message}`);
      process.exit(1);
    }
    process.stdout.write(`READY ${bound}\n`);
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => { server.forceShutdown(); process.exit(0); }, 2000);
    server.tryShutdown(() => { clearTimeout(force); process.exit(0); });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
