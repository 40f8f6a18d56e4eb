global using NUnit.Framework;
global using ThrillSuite.Testing;
