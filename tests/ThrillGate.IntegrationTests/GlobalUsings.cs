global using System.Net;
global using System.Text.Json;
global using System.Text.Json.Nodes;
global using NUnit.Framework;
global using ThrillSuite.Testing;

// One reference wallet serves every test, and its faults are armed per operation for whoever calls next: tests run one at a time.
[assembly: NonParallelizable]
