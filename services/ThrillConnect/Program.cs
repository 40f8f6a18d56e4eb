using ThrillConnect;
using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Settings;

var builder = ServiceHost.CreateBuilder(args);
builder.AddServiceDefaults(new ServiceShape(Database: "thrillconnect", Authentication: true, GrpcClients: ["thrillgate", "thrillpots"]),
    ThrillConnectExtensions.AddEventConsumers);
builder.AddThrillConnect();

var app = builder.Build();
app.MapServiceDefaults();
app.MapThrillConnect();

return await app.RunServiceAsync(args);
