namespace ThrillPots.Admin;

/// <summary>ThrillPots' admin API (spec §21–§22): every route needs a thrillpots:&lt;resource&gt; permission and the owner check.</summary>
public static class AdminEndpoints
{
    public static WebApplication MapAdminEndpoints(this WebApplication app)
    {
        app.MapOperatorEndpoints();
        app.MapSourceEndpoints();
        app.MapCurrencyEndpoints();
        app.MapTemplateEndpoints();
        app.MapInstanceEndpoints();
        Links.LinkEndpoints.MapLinkEndpoints(app);
        Operations.BoostEndpoints.MapBoostEndpoints(app);
        Operations.ModelSwitch.MapModelSwitch(app);
        app.MapAuditEndpoints(Access.System);
        return app;
    }
}
