#!/usr/bin/python3
"""Independent gRPC client (Debian python3-grpcio) for the Diagnostics service.

usage: /usr/bin/python3 client.py --target 127.0.0.1:PORT --case CASE

Runs one case against a server speaking thrillsuite.diagnostics.v1.Diagnostics
over insecure h2c, prints one JSON line with what it observed, and exits 0 when
the observation matches expectations, 1 when it does not (the reason is in the
JSON line's "error" and on stderr), 2 on a usage or setup error.
"""

import argparse
import hashlib
import json
import sys
import time

import grpc

import diagproto

PEER = "python-grpcio"
CASES = ("unary", "streaming", "deadline", "error", "large", "unimplemented")
KIB = 1024
MIB = 1024 * 1024
CALL_TIMEOUT = 10.0  # seconds; no case may hang the harness
ERROR_DETAIL = "no such jackpot: \u00fc\u2713"  # "no such jackpot: ü✓"

pb = None  # the generated module, set in main()


class Mismatch(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Mismatch(what)


def known_bytes(n):
    return bytes(i % 251 for i in range(n))


def digest(b):
    return hashlib.sha256(b).hexdigest()[:16]


def echo_stub(channel):
    return channel.unary_unary(
        diagproto.ECHO,
        request_serializer=pb.EchoRequest.SerializeToString,
        response_deserializer=pb.EchoReply.FromString)


def code_name(code):
    return code.name if code is not None else None


def case_unary(target, obs):
    payload = known_bytes(1 * KIB)
    with grpc.insecure_channel(target) as ch:
        reply, call = echo_stub(ch).with_call(
            pb.EchoRequest(message="hello", payload=payload),
            metadata=(("x-interop", "python"), ("authorization", "Bearer t0k3n")),
            timeout=CALL_TIMEOUT)
    md = dict(reply.metadata)
    obs.update(status=code_name(call.code()), message=reply.message,
               payload_len=len(reply.payload), payload_sha=digest(reply.payload),
               metadata=md, authorization_present=reply.authorization_present,
               service=reply.service)
    expect(call.code() == grpc.StatusCode.OK, "status %s, want OK" % call.code())
    expect(reply.message == "hello", "message %r, want 'hello'" % reply.message)
    expect(reply.payload == payload,
           "payload differs (%d bytes back, want %d)" % (len(reply.payload), len(payload)))
    expect(md.get("x-interop") == "python",
           "metadata['x-interop'] = %r, want 'python'" % md.get("x-interop"))
    expect(reply.authorization_present is True, "authorization_present false, want true")
    expect("authorization" not in md, "'authorization' leaked into reply.metadata")


def case_streaming(target, obs):
    with grpc.insecure_channel(target) as ch:
        count = ch.unary_stream(
            diagproto.COUNT,
            request_serializer=pb.CountRequest.SerializeToString,
            response_deserializer=pb.CountReply.FromString)
        call = count(pb.CountRequest(count=5, interval_ms=10), timeout=CALL_TIMEOUT)
        indices = []
        try:
            for r in call:
                indices.append(r.index)
        except grpc.RpcError as e:
            obs.update(indices=indices, status=code_name(e.code()), details=e.details())
            raise Mismatch("stream failed with %s: %s" % (e.code(), e.details()))
        code = call.code()
    obs.update(indices=indices, status=code_name(code))
    expect(indices == [0, 1, 2, 3, 4], "indices %r, want [0, 1, 2, 3, 4]" % indices)
    expect(code == grpc.StatusCode.OK, "final status %s, want OK" % code)


def expect_rpc_error(fn, obs, prefix=""):
    """Run fn, which must raise grpc.RpcError; record code/details/elapsed; return the error."""
    t0 = time.monotonic()
    try:
        reply = fn()
    except grpc.RpcError as e:
        obs[prefix + "elapsed_ms"] = round((time.monotonic() - t0) * 1000)
        obs[prefix + "status"] = code_name(e.code())
        obs[prefix + "details"] = e.details()
        return e
    obs[prefix + "elapsed_ms"] = round((time.monotonic() - t0) * 1000)
    obs[prefix + "status"] = "OK"
    raise Mismatch("%scall succeeded (reply %d-byte payload), want an error"
                   % (prefix, len(getattr(reply, "payload", b""))))


def case_deadline(target, obs):
    with grpc.insecure_channel(target) as ch:
        # connect first so the 200 ms budget measures the call, not the TCP/h2 handshake
        grpc.channel_ready_future(ch).result(timeout=CALL_TIMEOUT)
        e = expect_rpc_error(
            lambda: echo_stub(ch)(pb.EchoRequest(message="slow", delay_ms=2000), timeout=0.2), obs)
    expect(e.code() == grpc.StatusCode.DEADLINE_EXCEEDED,
           "status %s, want DEADLINE_EXCEEDED" % e.code())
    expect(obs["elapsed_ms"] < 1500, "took %d ms, want < 1500 ms" % obs["elapsed_ms"])


def case_error(target, obs):
    with grpc.insecure_channel(target) as ch:
        e = expect_rpc_error(
            lambda: echo_stub(ch)(pb.EchoRequest(message="x", fail_with_status=5,
                                                 fail_message=ERROR_DETAIL), timeout=CALL_TIMEOUT),
            obs)
    expect(e.code() == grpc.StatusCode.NOT_FOUND, "status %s, want NOT_FOUND" % e.code())
    expect(e.details() == ERROR_DETAIL, "details %r, want %r" % (e.details(), ERROR_DETAIL))


def case_large(target, obs):
    big = known_bytes(3 * MIB)
    opts = [("grpc.max_receive_message_length", 8 * MIB),
            ("grpc.max_send_message_length", 8 * MIB)]
    with grpc.insecure_channel(target, options=opts) as ch:
        stub = echo_stub(ch)
        reply = stub(pb.EchoRequest(message="3MiB", payload=big), timeout=CALL_TIMEOUT)
        obs.update(ok3_payload_len=len(reply.payload), ok3_payload_sha=digest(reply.payload))
        expect(reply.payload == big,
               "3 MiB echo: %d bytes back, want %d identical bytes" % (len(reply.payload), len(big)))
        huge = known_bytes(5 * MIB)
        e = expect_rpc_error(
            lambda: stub(pb.EchoRequest(message="5MiB", payload=huge), timeout=CALL_TIMEOUT),
            obs, prefix="big5_")
    expect(e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED,
           "5 MiB request: status %s (%s), want RESOURCE_EXHAUSTED" % (e.code(), e.details()))


def case_unimplemented(target, obs):
    with grpc.insecure_channel(target) as ch:
        nope = ch.unary_unary(
            diagproto.NOPE,
            request_serializer=pb.EchoRequest.SerializeToString,
            response_deserializer=pb.EchoReply.FromString)
        e = expect_rpc_error(lambda: nope(pb.EchoRequest(message="x"), timeout=CALL_TIMEOUT), obs)
    expect(e.code() == grpc.StatusCode.UNIMPLEMENTED, "status %s, want UNIMPLEMENTED" % e.code())


def main():
    global pb
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", required=True, help="host:port of an h2c gRPC server")
    ap.add_argument("--case", required=True, choices=CASES)
    args = ap.parse_args()
    try:
        pb = diagproto.load()
    except SystemExit as e:
        print(json.dumps({"peer": PEER, "case": args.case, "ok": False, "error": str(e)}), flush=True)
        print("setup error: %s" % e, file=sys.stderr)
        return 2

    obs = {}
    result = {"peer": PEER, "case": args.case, "target": args.target, "ok": False}
    try:
        globals()["case_" + args.case](args.target, obs)
        result["ok"] = True
    except Mismatch as m:
        result["error"] = str(m)
    except grpc.RpcError as e:
        result["error"] = "unexpected RPC failure %s: %s" % (e.code(), e.details())
    except Exception as e:  # noqa: BLE001 - report anything as a failed observation
        result["error"] = "unexpected %s: %s" % (type(e).__name__, e)
    result["observed"] = obs
    print(json.dumps(result, sort_keys=True), flush=True)
    if not result["ok"]:
        print("FAIL %s/%s against %s: %s" % (PEER, args.case, args.target, result["error"]),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
