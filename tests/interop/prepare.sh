#!/usr/bin/env bash
# Installs the independent gRPC peers the interop tests drive (idempotent; run as root, e.g. from .ci/run):
#   Debian python3-grpcio + python3-protobuf + protoc (3.21, matching that runtime), and npm ci here.
set -euo pipefail
cd "$(dirname "$0")"
if ! /usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null || ! command -v protoc >/dev/null; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-grpcio python3-protobuf protobuf-compiler
fi
npm ci --no-audit --no-fund
