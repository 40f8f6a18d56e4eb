#!/usr/bin/env node
'use strict';
// Independent WebSocket client (npm ws) for a ThrillConnect player or service socket.
//
// usage: node ws-client.js --url ws://HOST:PORT/v1/events/OPERATOR/BRAND?token=...&currency=EUR
//                          [--events JackpotUpdate,WinEvent] [--until JackpotUpdate,WinEvent] [--timeout-ms 20000]
//
// Connects, sends one SubscribeRequest for the thrillpots event types of --events (default *), collects every
// frame the server sends until a frame of each --until msg_name has arrived (default: the first frame), then closes
// normally and prints one JSON line { "frames": [...], "closed": null | { code, reason }, "error"? }.
// Exit 0 when every --until name arrived, 1 when the socket closed or the time ran out first, or a frame was not a
// JSON text frame (the reason in "error"), 2 on a usage error.
const WebSocket = require('ws');

function parseArgs(argv) {
  const args = { events: '*', until: '', 'timeout-ms': '20000' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in args) && name !== 'url') throw new Error(`unknown argument ${argv[i]}`);
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    args[name] = argv[i + 1];
  }
  if (!args.url) throw new Error('--url is required');
  return args;
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
const list = (s) => s.split(',').filter((x) => x.length > 0);
const waitingFor = new Set(list(args.until));
const frames = [];
let closed = null;
let done = false;

function finish(error) {
  if (done) return;
  done = true;
  clearTimeout(timer);
  const result = { frames, closed };
  if (error) result.error = error;
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(error ? 1 : 0));
  if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'done');
}

const timer = setTimeout(() => finish(`timed out waiting for ${[...waitingFor].join(', ') || 'a frame'}`), Number(args['timeout-ms']));
const ws = new WebSocket(args.url);
ws.on('open', () => {
  const events = list(args.events).map((event_type) => ({ source: 'thrillpots', event_type }));
  ws.send(JSON.stringify({ SubscribeRequest: { events } }));
});
ws.on('message', (data, isBinary) => {
  if (isBinary) return finish('the server sent a binary frame');
  let frame;
  try {
    frame = JSON.parse(data.toString('utf8'));
  } catch (e) {
    return finish(`a frame is not JSON: ${e.message}`);
  }
  frames.push(frame);
  waitingFor.delete(frame.msg_name);
  if (waitingFor.size === 0) finish();
});
ws.on('close', (code, reason) => {
  closed = { code, reason: reason.toString('utf8') };
  finish(`the socket closed (${code} ${closed.reason}) before ${[...waitingFor].join(', ')}`);
});
ws.on('error', (e) => finish(`socket error: ${e.message}`));
