global using System.Net;
global using System.Text.Json;
global using System.Text.Json.Nodes;
global using NUnit.Framework;
global using ThrillSuite.Testing;

// One BitBridge, one set of peers: tests run one at a time, each on brands (and peers' names) of its own.
[assembly: NonParallelizable]
