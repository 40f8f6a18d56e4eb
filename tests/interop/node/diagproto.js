'use strict';
// Loads thrillsuite.diagnostics.v1 from the repo's .proto at run time with
// @grpc/proto-loader (dependencies in ../package.json; run `npm ci` in tests/interop).
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const SERVICE = 'thrillsuite.diagnostics.v1.Diagnostics';
const PROTO_REL = path.join('diagnostics', 'v1', 'diagnostics.proto');

function findProtoRoot() {
  const repo = process.env.THRILLSUITE_REPO;
  if (repo) {
    const root = path.join(repo, 'protos');
    if (fs.existsSync(path.join(root, PROTO_REL))) return root;
    throw new Error(`THRILLSUITE_REPO=${repo} has no protos/${PROTO_REL}`);
  }
  let d = __dirname;
  for (;;) {
    const root = path.join(d, 'protos');
    if (fs.existsSync(path.join(root, PROTO_REL))) return root;
    const parent = path.dirname(d);
    if (parent === d) throw new Error(`cannot find protos/${PROTO_REL} above ${__dirname}`);
    d = parent;
  }
}

function load() {
  const def = protoLoader.loadSync(PROTO_REL, {
    includeDirs: [findProtoRoot()],
    keepCase: true, // field names as in the .proto (delay_ms, fail_with_status, ...)
    longs: String,
    enums: String,
    defaults: true, // proto3 zero values (index 0, empty payload) present when decoded
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def);
  const Diagnostics = pkg.thrillsuite.diagnostics.v1.Diagnostics;
  return { def, Diagnostics, methods: def[SERVICE] };
}

module.exports = {
  SERVICE,
  ECHO: `/${SERVICE}/Echo`,
  COUNT: `/${SERVICE}/Count`,
  NOPE: `/${SERVICE}/Nope`,
  load,
};
