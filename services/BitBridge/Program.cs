using BitBridge;
using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Settings;

var builder = ServiceHost.CreateBuilder(args);
builder.AddServiceDefaults(new ServiceShape(Database: "bitbridge", Authentication: true), BitBridgeExtensions.AddConsumers);
builder.AddBitBridge();

var app = builder.Build();
app.MapServiceDefaults();
app.MapBitBridge();

return await app.RunServiceAsync(args);
