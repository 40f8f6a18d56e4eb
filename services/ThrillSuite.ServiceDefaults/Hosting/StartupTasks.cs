namespace ThrillSuite.ServiceDefaults.Hosting;

/// <summary>Work a service does after its migrations and before it serves (not with the migrate verb).</summary>
public interface IStartupTask
{
    Task RunAsync(CancellationToken ct);
}

/// <summary>Thrown by a start-up task for a setting that is wrong or missing; reported like the others, exit code 2.</summary>
public sealed class StartupSettingException(string message) : Exception(message);
