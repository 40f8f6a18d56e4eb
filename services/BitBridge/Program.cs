using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Settings;

var builder = ServiceHost.CreateBuilder(args);
builder.AddServiceDefaults(new ServiceShape(Database: "bitbridge"));

var app = builder.Build();
app.MapServiceDefaults();

return await app.RunServiceAsync(args);
