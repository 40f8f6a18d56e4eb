global using System.Net;
global using NUnit.Framework;
global using ThrillSuite.Testing;
