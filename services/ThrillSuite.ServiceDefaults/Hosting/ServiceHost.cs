using Microsoft.AspNetCore.Builder;

namespace ThrillSuite.ServiceDefaults.Hosting;

public static class ServiceHost
{
    /// <summary>A builder whose content root is the service's own folder, so appsettings.json is found wherever it is started from.</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args) =>
        WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
}
