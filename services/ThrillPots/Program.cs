using MassTransit;
using ThrillPots;
using ThrillPots.Consumers;
using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Settings;

var builder = ServiceHost.CreateBuilder(args);
builder.AddServiceDefaults(new ServiceShape(Database: "thrillpots", Grpc: true, Authentication: true, GrpcClients: "thrillgate"), bus =>
{
    bus.AddConsumer<WinCreditedConsumer>();
    bus.AddConsumer<WinCreditPendingConsumer>();
    bus.AddConsumer<WinCreditFailedConsumer>();
});
builder.AddThrillPots();

var app = builder.Build();
app.MapServiceDefaults();
app.MapThrillPots();

return await app.RunServiceAsync(args);
