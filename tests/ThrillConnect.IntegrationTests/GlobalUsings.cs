global using System.Net;
global using System.Text.Json;
global using System.Text.Json.Nodes;
global using NUnit.Framework;
global using ThrillSuite.Testing;
