global using System.Net;
global using System.Text.Json;
global using NUnit.Framework;
global using ThrillSuite.Testing;
