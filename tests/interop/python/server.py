#!/usr/bin/python3
"""Independent gRPC server (Debian python3-grpcio) implementing the Diagnostics service.

usage: /usr/bin/python3 server.py --port PORT   (0 picks a free port)

Listens on 127.0.0.1 (insecure h2c), prints "READY <port>" on stdout once it
accepts calls, and exits 0 on SIGTERM/SIGINT. The max receive message size is
grpcio's default (4 MiB).
"""

import argparse
import base64
import re
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

import diagproto

SERVICE_NAME = "python-grpcio"
# never echoed back: credentials, and transport/reserved headers
REDACTED = {"authorization", "cookie"}
RESERVED = {"user-agent", "te", "content-type", "host", "accept-encoding", "content-encoding", "content-length"}
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")

pb = None


def echoable(key):
    return not (key in REDACTED or key in RESERVED or key.startswith("grpc-")
                or key.startswith(":"))


def wait_cancellable(context, ms):
    """Sleep ms, returning early (False) when the call is cancelled or its deadline passes."""
    done = threading.Event()
    context.add_callback(done.set)  # runs when the RPC terminates, incl. cancel/deadline
    if not context.is_active():
        return False
    done.wait(ms / 1000.0)
    return context.is_active()


def echo(request, context):
    md = {}
    auth = False
    trace_id = ""
    for key, value in context.invocation_metadata():
        key = key.lower()
        if key == "authorization":
            auth = True
        if key == "traceparent":
            m = TRACEPARENT.match(value if isinstance(value, str) else "")
            if m:
                trace_id = m.group(1)
        if not echoable(key):
            continue
        if isinstance(value, bytes):  # "-bin" keys: echo as the wire's base64
            value = base64.b64encode(value).decode("ascii").rstrip("=")
        md[key] = md[key] + ", " + value if key in md else value
    if request.delay_ms > 0:
        t0 = time.monotonic()
        if not wait_cancellable(context, request.delay_ms):
            print("echo: delay_ms=%d cut short after %d ms (call cancelled/deadline)"
                  % (request.delay_ms, (time.monotonic() - t0) * 1000), file=sys.stderr, flush=True)
            return pb.EchoReply()  # the client has gone; this reply is discarded
    if request.fail_with_status != 0:
        code = diagproto.status_code(request.fail_with_status)
        if code is None or code == grpc.StatusCode.OK:
            code = grpc.StatusCode.UNKNOWN
        context.abort(code, request.fail_message)
    return pb.EchoReply(message=request.message, payload=request.payload, metadata=md,
                        authorization_present=auth, service=SERVICE_NAME, trace_id=trace_id)


def count(request, context):
    for i in range(max(0, request.count)):
        if i > 0 and request.interval_ms > 0 and not wait_cancellable(context, request.interval_ms):
            return
        if not context.is_active():
            return
        yield pb.CountReply(index=i)


def main():
    global pb
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    pb = diagproto.load()

    handler = grpc.method_handlers_generic_handler(diagproto.SERVICE, {
        "Echo": grpc.unary_unary_rpc_method_handler(
            echo, request_deserializer=pb.EchoRequest.FromString,
            response_serializer=pb.EchoReply.SerializeToString),
        "Count": grpc.unary_stream_rpc_method_handler(
            count, request_deserializer=pb.CountRequest.FromString,
            response_serializer=pb.CountReply.SerializeToString),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:%d" % args.port)
    if port == 0:
        print("cannot bind 127.0.0.1:%d" % args.port, file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    print("READY %d" % port, flush=True)
    while not stop.wait(1.0):
        pass
    server.stop(grace=1.0).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
