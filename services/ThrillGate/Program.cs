using MassTransit;
using ThrillGate;
using ThrillGate.Credits;
using ThrillSuite.Contracts.Pots;
using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Settings;

var builder = ServiceHost.CreateBuilder(args);
builder.AddServiceDefaults(new ServiceShape(Database: "thrillgate", Grpc: true, Authentication: true),
    bus =>
    {
        bus.AddConsumer<CreditWinConsumer>().Endpoint(e => e.Name = CreditWin.Queue);
        bus.AddConsumer<CreditBatchConsumer>().Endpoint(e => e.Name = CreditBatch.Queue);
    });
builder.AddThrillGate();

var app = builder.Build();
app.MapServiceDefaults();
app.MapThrillGate();

return await app.RunServiceAsync(args);
