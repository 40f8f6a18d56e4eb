"""Message classes for thrillsuite.diagnostics.v1, generated at run time.

Debian's protoc (protobuf-compiler 3.21) matches Debian's python3-protobuf
runtime, so the proto is compiled into a throw-away directory each run and
nothing generated is committed. Run with /usr/bin/python3 (Debian's), which
has the grpc and protobuf modules.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

import grpc

SERVICE = "thrillsuite.diagnostics.v1.Diagnostics"
ECHO = "/" + SERVICE + "/Echo"
COUNT = "/" + SERVICE + "/Count"
NOPE = "/" + SERVICE + "/Nope"
PROTO_REL = os.path.join("diagnostics", "v1", "diagnostics.proto")


def find_proto_root():
    """The repo's protos/ folder: $THRILLSUITE_REPO/protos, else walk up from here."""
    repo = os.environ.get("THRILLSUITE_REPO")
    if repo:
        root = os.path.join(repo, "protos")
        if os.path.isfile(os.path.join(root, PROTO_REL)):
            return root
        raise SystemExit("THRILLSUITE_REPO=%s has no protos/%s" % (repo, PROTO_REL))
    d = os.path.dirname(os.path.abspath(__file__))
    while True:
        root = os.path.join(d, "protos")
        if os.path.isfile(os.path.join(root, PROTO_REL)):
            return root
        parent = os.path.dirname(d)
        if parent == d:
            raise SystemExit("cannot find protos/%s above %s" % (PROTO_REL, __file__))
        d = parent


def load():
    """Compile the proto with protoc into a temp dir and import the _pb2 module."""
    protoc = shutil.which("protoc") or "/usr/bin/protoc"
    if not os.path.exists(protoc):
        raise SystemExit("protoc not found (apt-get install -y protobuf-compiler)")
    root = find_proto_root()
    tmp = tempfile.mkdtemp(prefix="ts-interop-pb-")
    try:
        res = subprocess.run(
            [protoc, "-I", root, "--python_out=" + tmp, PROTO_REL],
            capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit("protoc failed (%d): %s" % (res.returncode, res.stderr.strip()))
        path = os.path.join(tmp, "diagnostics", "v1", "diagnostics_pb2.py")
        spec = importlib.util.spec_from_file_location("ts_diagnostics_pb2", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        return mod
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def status_code(number):
    """grpc.StatusCode for a numeric code, or None when it is not a known code."""
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code
    return None
