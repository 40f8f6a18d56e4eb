using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Settings;

var builder = ServiceHost.CreateBuilder(args);
builder.AddServiceDefaults(new ServiceShape(Database: "thrillconnect", GrpcClients: ["thrillgate", "thrillpots"]));

var app = builder.Build();
app.MapServiceDefaults();

return await app.RunServiceAsync(args);
