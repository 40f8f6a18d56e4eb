using ThrillPots.Admin;

namespace ThrillPots;

public static class ThrillPotsExtensions
{
    public static WebApplicationBuilder AddThrillPots(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminOptions>().BindConfiguration("Admin");
        return builder;
    }

    public static WebApplication MapThrillPots(this WebApplication app)
    {
        app.MapAdminEndpoints();
        return app;
    }
}
