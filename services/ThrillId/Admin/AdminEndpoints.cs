using System.Text.RegularExpressions;
using ThrillId.Accounts;
using ThrillId.Keys;
using ThrillSuite.ServiceDefaults.Auth;
using ThrillSuite.ServiceDefaults.Http;

namespace ThrillId.Admin;

/// <summary>The registry's admin API (spec §1.2 rows 7–11), protected by Thrill-ID tokens and permissions.</summary>
public static partial class AdminEndpoints
{
    public sealed record OrganisationRequest(string? Id, List<string>? Units, bool? Enabled);
    public sealed record OrganisationDoc(string Id, IReadOnlyList<string> Units, bool Enabled);
    public sealed record NewAccount(string? Username, string? Password, string? AccountType, string? OrgId, string? UnitId,
        List<SystemPermissions>? Permissions, bool? Enabled, bool? Trusted);
    public sealed record AccountChange(string? UnitId, List<SystemPermissions>? Permissions, bool? Enabled, bool? Trusted);
    public sealed record PasswordReset(string? Password);
    public sealed record NewClient(string ClientId, string ClientSecret);
    public sealed record ClientDoc(string ClientId, bool Enabled, DateTime CreatedAt);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex Name();

    public static void MapAdminEndpoints(this WebApplication app)
    {
        var orgs = app.MapGroup("/admin/organisations").WithTags("Admin: organisations");
        orgs.MapPost("", CreateOrganisationAsync).RequirePermission("thrillid", "organisations", write: true);
        orgs.MapPut("/{id}", UpdateOrganisationAsync).RequirePermission("thrillid", "organisations", write: true);
        orgs.MapGet("", ListOrganisationsAsync).RequirePermission("thrillid", "organisations", write: false);
        orgs.MapGet("/{id}", GetOrganisationAsync).RequirePermission("thrillid", "organisations", write: false);

        var accounts = app.MapGroup("/admin/accounts").WithTags("Admin: accounts");
        accounts.MapPost("", CreateAccountAsync).RequirePermission("thrillid", "accounts", write: true);
        accounts.MapGet("", ListAccountsAsync).RequirePermission("thrillid", "accounts", write: false);
        accounts.MapGet("/{id:guid}", GetAccountAsync).RequirePermission("thrillid", "accounts", write: false);
        accounts.MapPut("/{id:guid}", UpdateAccountAsync).RequirePermission("thrillid", "accounts", write: true);
        accounts.MapPost("/{id:guid}/disable", (Guid id, HttpContext http, AccountStore store, CancellationToken ct) => SetEnabledAsync(id, false, http, store, ct))
            .RequirePermission("thrillid", "accounts", write: true);
        accounts.MapPost("/{id:guid}/enable", (Guid id, HttpContext http, AccountStore store, CancellationToken ct) => SetEnabledAsync(id, true, http, store, ct))
            .RequirePermission("thrillid", "accounts", write: true);
        accounts.MapPost("/{id:guid}/password", ResetPasswordAsync).RequirePermission("thrillid", "accounts", write: true);
        accounts.MapPost("/{id:guid}/clients", CreateClientAsync).RequirePermission("thrillid", "accounts", write: true);
        accounts.MapGet("/{id:guid}/clients", ListClientsAsync).RequirePermission("thrillid", "accounts", write: false);
        app.MapDelete("/admin/clients/{clientId}", DeleteClientAsync).WithTags("Admin: accounts").RequirePermission("thrillid", "accounts", write: true);

        var keys = app.MapGroup("/admin/keys").WithTags("Admin: signing keys");
        keys.MapGet("", async (HttpContext http, SigningKeyStore store, CancellationToken ct) =>
            Caller.Of(http).IsPlatformAdmin ? Results.Ok(await store.ListAsync(ct)) : TokenValidation.Forbidden("Signing keys are managed by platform administrators."))
            .RequirePermission("thrillid", "keys", write: false);
        keys.MapPost("/rotate", async (HttpContext http, SigningKeyStore store, CancellationToken ct) =>
            Caller.Of(http).IsPlatformAdmin ? Results.Ok(await store.RotateNowAsync(ct)) : TokenValidation.Forbidden("Signing keys are managed by platform administrators."))
            .RequirePermission("thrillid", "keys", write: true);
    }

    static async Task<IResult> CreateOrganisationAsync(HttpContext http, AccountStore store, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<OrganisationRequest>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        if (body!.Id is null || !Name().IsMatch(body.Id)) errors["id"] = ["Required: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit."];
        CheckUnits(body.Units, errors, required: true);
        if (errors.Count > 0) return Problems.BadRequest(errors);
        if (!Caller.Of(http).IsPlatformAdmin) return TokenValidation.Forbidden("Only platform administrators create organisations.");
        var organisation = new Organisation(body.Id!, [.. body.Units!], body.Enabled ?? true);
        if (!await store.CreateOrganisationAsync(organisation, ct)) return Problems.Conflict($"Organisation '{body.Id}' already exists.");
        return Results.Ok(Doc(organisation));
    }

    static async Task<IResult> UpdateOrganisationAsync(string id, HttpContext http, AccountStore store, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<OrganisationRequest>(http.Request);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        CheckUnits(body!.Units, errors, required: true);
        if (body.Id is not null && body.Id != id) errors["id"] = ["Must match the path, or be left out."];
        if (errors.Count > 0) return Problems.BadRequest(errors);
        var caller = Caller.Of(http);
        if (!caller.MayManage(id, null)) return TokenValidation.Forbidden($"The caller may not manage organisation '{id}'.");
        var current = await store.FindOrganisationAsync(id, ct);
        if (current is null) return Problems.NotFound($"No organisation '{id}'.");
        if (body.Enabled is false && !caller.IsPlatformAdmin) return TokenValidation.Forbidden("Only platform administrators disable organisations.");
        var removed = current.Units.Except(body.Units!).ToHashSet();
        if (removed.Count > 0 && (await store.ListAsync(id, ct)).FirstOrDefault(a => a.UnitId is { } u && removed.Contains(u)) is { } bound)
            return Problems.Conflict($"Unit '{bound.UnitId}' still has accounts (e.g. '{bound.Username}'); move them first.");
        var updated = current with { Units = [.. body.Units!], Enabled = body.Enabled ?? current.Enabled };
        await store.UpdateOrganisationAsync(updated, ct);
        return Results.Ok(Doc(updated));
    }

    static async Task<IResult> ListOrganisationsAsync(HttpContext http, AccountStore store, CancellationToken ct)
    {
        var caller = Caller.Of(http);
        return Results.Ok((await store.ListOrganisationsAsync(caller.IsPlatformAdmin ? null : caller.OrgId ?? "", ct)).Select(Doc));
    }

    static async Task<IResult> GetOrganisationAsync(string id, HttpContext http, AccountStore store, CancellationToken ct)
    {
        if (!Caller.Of(http).MayManage(id, null) && Caller.Of(http).OrgId != id) return TokenValidation.Forbidden($"Organisation '{id}' is not the caller's.");
        return await store.FindOrganisationAsync(id, ct) is { } o ? Results.Ok(Doc(o)) : Problems.NotFound($"No organisation '{id}'.");
    }

    static async Task<IResult> CreateAccountAsync(HttpContext http, AccountStore store, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<NewAccount>(http.Request);
        if (error is not null) return error;
        var errors = PermissionModel.Validate(body!.Permissions);
        if (body.Username is null || body.Username.Length is < 3 or > 200 || body.Username.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            errors["username"] = ["Required: 3-200 characters without spaces."];
        if (body.AccountType is not (Account.User or Account.Service)) errors["account_type"] = ["Required: User or Service."];
        if (body.AccountType == Account.User || body.Password is not null)
            if (AccountEndpoints.PasswordError(body.Password) is { } bad) errors["password"] = [bad];
        if (body.OrgId is null) errors["org_id"] = ["Required."];
        if (errors.Count > 0) return Problems.BadRequest(errors);

        var caller = Caller.Of(http);
        if (!caller.MayManage(body.OrgId!, body.UnitId))
            return TokenValidation.Forbidden($"The caller may not create accounts in '{body.OrgId}{(body.UnitId is null ? "" : ":" + body.UnitId)}'.");
        if (PermissionModel.FirstNotHeld(caller.Scopes, body.Permissions ?? []) is { } notHeld)
            return TokenValidation.Forbidden($"The caller cannot grant {notHeld}: it does not hold it.");
        var organisation = await store.FindOrganisationAsync(body.OrgId!, ct);
        if (organisation is null) return Problems.BadRequest("org_id", $"No organisation '{body.OrgId}'.");
        if (body.UnitId is not null && !organisation.Units.Contains(body.UnitId)) return Problems.BadRequest("unit_id", $"'{body.UnitId}' is not a unit of '{body.OrgId}'.");

        var account = new Account(Guid.CreateVersion7(), body.Username!, body.Password is null ? null : Secrets.HashPassword(body.Password),
            body.AccountType!, body.OrgId!, body.UnitId, System.Text.Json.JsonSerializer.Serialize(body.Permissions ?? [], JsonBody.Options),
            body.Enabled ?? true, body.Trusted ?? false, DateTime.UtcNow, null, false, 0, null);
        if (!await store.CreateAsync(account, ct)) return Problems.Conflict($"The username '{body.Username}' is taken.");
        var created = (await store.FindAsync(account.Id, ct))!;
        return Results.Created($"/admin/accounts/{account.Id}", AccountDoc.From(created, organisation.Units));
    }

    static async Task<IResult> ListAccountsAsync(string? org_id, HttpContext http, AccountStore store, CancellationToken ct)
    {
        var caller = Caller.Of(http);
        var org = org_id ?? (caller.IsPlatformAdmin ? null : caller.OrgId);
        if (org is not null && !caller.IsPlatformAdmin && org != caller.OrgId) return TokenValidation.Forbidden($"Organisation '{org}' is not the caller's.");
        var units = new Dictionary<string, string[]>();
        var docs = new List<AccountDoc>();
        foreach (var a in await store.ListAsync(org, ct))
        {
            if (!caller.MayManage(a.OrgId, a.UnitId)) continue;
            if (!units.TryGetValue(a.OrgId, out var u)) units[a.OrgId] = u = (await store.FindOrganisationAsync(a.OrgId, ct))?.Units ?? [];
            docs.Add(AccountDoc.From(a, u));
        }
        return Results.Ok(docs);
    }

    static async Task<IResult> GetAccountAsync(Guid id, HttpContext http, AccountStore store, CancellationToken ct)
    {
        var (account, refusal) = await ManagedAccountAsync(id, http, store, ct);
        if (refusal is not null) return refusal;
        return Results.Ok(AccountDoc.From(account!, (await store.FindOrganisationAsync(account!.OrgId, ct))?.Units ?? []));
    }

    static async Task<IResult> UpdateAccountAsync(Guid id, HttpContext http, AccountStore store, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<AccountChange>(http.Request);
        if (error is not null) return error;
        var errors = PermissionModel.Validate(body!.Permissions);
        if (errors.Count > 0) return Problems.BadRequest(errors);
        var (account, refusal) = await ManagedAccountAsync(id, http, store, ct);
        if (refusal is not null) return refusal;
        var caller = Caller.Of(http);
        var unit = body.UnitId ?? account!.UnitId;
        if (!caller.MayManage(account!.OrgId, unit)) return TokenValidation.Forbidden($"The caller may not move accounts to '{account.OrgId}:{unit}'.");
        var organisation = await store.FindOrganisationAsync(account.OrgId, ct);
        if (unit is not null && organisation?.Units.Contains(unit) != true) return Problems.BadRequest("unit_id", $"'{unit}' is not a unit of '{account.OrgId}'.");
        if (body.Permissions is not null && PermissionModel.FirstNotHeld(caller.Scopes, body.Permissions) is { } notHeld)
            return TokenValidation.Forbidden($"The caller cannot grant {notHeld}: it does not hold it.");
        await store.UpdateAsync(id, unit, body.Permissions ?? account.Permissions, body.Enabled ?? account.Enabled, body.Trusted ?? account.Trusted, ct);
        return Results.Ok(AccountDoc.From((await store.FindAsync(id, ct))!, organisation?.Units ?? []));
    }

    static async Task<IResult> SetEnabledAsync(Guid id, bool enabled, HttpContext http, AccountStore store, CancellationToken ct)
    {
        var (account, refusal) = await ManagedAccountAsync(id, http, store, ct);
        if (refusal is not null) return refusal;
        await store.UpdateAsync(id, account!.UnitId, account.Permissions, enabled, account.Trusted, ct);
        return Results.Ok(AccountDoc.From((await store.FindAsync(id, ct))!, (await store.FindOrganisationAsync(account.OrgId, ct))?.Units ?? []));
    }

    static async Task<IResult> ResetPasswordAsync(Guid id, HttpContext http, AccountStore store, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync<PasswordReset>(http.Request);
        if (error is not null) return error;
        if (AccountEndpoints.PasswordError(body!.Password) is { } bad) return Problems.BadRequest("password", bad);
        var (_, refusal) = await ManagedAccountAsync(id, http, store, ct);
        if (refusal is not null) return refusal;
        await store.SetPasswordAsync(id, body.Password!, ct);
        return Results.NoContent();
    }

    static async Task<IResult> CreateClientAsync(Guid id, HttpContext http, AccountStore store, CancellationToken ct)
    {
        var (account, refusal) = await ManagedAccountAsync(id, http, store, ct);
        if (refusal is not null) return refusal;
        if (account!.AccountType != Account.Service) return Problems.BadRequest("account_type", "OAuth clients belong to Service accounts.");
        var clientId = "cli_" + Secrets.Base64Url(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var secret = Secrets.NewSecret();
        await store.CreateClientAsync(id, clientId, secret, ct);
        return Results.Created($"/admin/accounts/{id}/clients", new NewClient(clientId, secret));
    }

    static async Task<IResult> ListClientsAsync(Guid id, HttpContext http, AccountStore store, CancellationToken ct)
    {
        var (_, refusal) = await ManagedAccountAsync(id, http, store, ct);
        if (refusal is not null) return refusal;
        return Results.Ok((await store.ListClientsAsync(id, ct)).Select(c => new ClientDoc(c.ClientId, c.Enabled, c.CreatedAt)));
    }

    static async Task<IResult> DeleteClientAsync(string clientId, HttpContext http, AccountStore store, CancellationToken ct)
    {
        var client = await store.FindClientAsync(clientId, ct);
        if (client is null) return Problems.NotFound($"No client '{clientId}'.");
        var (_, refusal) = await ManagedAccountAsync(client.AccountId, http, store, ct);
        if (refusal is not null) return refusal;
        await store.DisableClientAsync(clientId, ct);
        return Results.NoContent();
    }

    static async Task<(Account? Account, IResult? Refusal)> ManagedAccountAsync(Guid id, HttpContext http, AccountStore store, CancellationToken ct)
    {
        var account = await store.FindAsync(id, ct);
        if (account is null) return (null, Problems.NotFound($"No account {id}."));
        return Caller.Of(http).MayManage(account.OrgId, account.UnitId)
            ? (account, null)
            : (null, TokenValidation.Forbidden("The account belongs to an organisation or unit the caller may not manage."));
    }

    static void CheckUnits(List<string>? units, Dictionary<string, string[]> errors, bool required)
    {
        if (units is null)
        {
            if (required) errors["units"] = ["Required: the list of unit (brand) ids."];
            return;
        }
        for (var i = 0; i < units.Count; i++)
            if (units[i] is null || !Name().IsMatch(units[i])) errors[$"units[{i}]"] = ["1-64 letters, digits, '.', '_' or '-'."];
        if (units.Count > 1000) errors["units"] = ["At most 1000 units."];
        if (units.Distinct().Count() != units.Count) errors["units"] = ["Unit ids must be unique."];
    }

    static OrganisationDoc Doc(Organisation o) => new(o.Id, o.Units, o.Enabled);
}
