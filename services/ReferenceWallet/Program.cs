using ReferenceWallet.Wallet;
using ThrillSuite.ServiceDefaults.Hosting;
using ThrillSuite.ServiceDefaults.Settings;

var builder = ServiceHost.CreateBuilder(args);
builder.AddServiceDefaults(new ServiceShape(Database: "referencewallet", Messaging: false));
builder.Services.AddReferenceWallet();

var app = builder.Build();
app.MapServiceDefaults();
app.MapReferenceWallet();

return await app.RunServiceAsync(args);
