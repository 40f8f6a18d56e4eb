using ThrillId;
using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Settings;

var builder = ServiceHost.CreateBuilder(args);
builder.AddServiceDefaults(new ServiceShape(Database: "thrillid"));
builder.AddThrillId();

var app = builder.Build();
app.MapServiceDefaults();
app.MapThrillId();

return await app.RunServiceAsync(args);
