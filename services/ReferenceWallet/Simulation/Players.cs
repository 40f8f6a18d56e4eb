using System.Globalization;
using Dapper;
using Npgsql;
using ReferenceWallet.Wallet;

namespace ReferenceWallet.Simulation;

public sealed record PlayerRequest(
    string? Token, string? Currency, decimal? Balance, string? OperatorId, string? BrandId, string? Country, string? Nickname,
    string? Gender, string? DateOfBirth, string? Jurisdiction, string[]? Segments);

public sealed record PlayerView(
    string PlayerId, string Token, string OperatorId, string BrandId, string Currency, decimal Balance, string? Nickname, string Gender,
    string Country, string? DateOfBirth, string? Jurisdiction, string[]? Segments, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>Players as the simulation sets them up: the operator's side of the wallet, which ThrillGate never sees.</summary>
public sealed class Players(NpgsqlDataSource db)
{
    public async Task<PlayerView> PutAsync(string playerId, PlayerRequest r)
    {
        WalletJson.Optional(playerId, "player_id");
        var token = WalletJson.Required(r.Token, "token", 1024);
        var currency = WalletJson.Currency(r.Currency);
        var balance = r.Balance ?? throw WalletFailure.Structure("balance is required.");
        if (balance < 0 || balance > Currencies.MaxAmount) throw WalletFailure.Property("balance", $"must be 0-{Currencies.MaxAmount}; got {balance}.");
        if (!Currencies.FitsMinorUnit(balance, currency))
            throw WalletFailure.Property("balance", $"has more than {Currencies.DecimalsOf(currency)} decimal places, the precision of {currency}.");
        var operatorId = WalletJson.Required(r.OperatorId, "operator_id");
        var brandId = WalletJson.Required(r.BrandId, "brand_id");
        var country = WalletJson.Optional(r.Country, "country", 8) ?? "MT";
        var gender = WalletJson.Optional(r.Gender, "gender", 16) ?? "?";
        DateTime? dateOfBirth = null;
        if (WalletJson.Optional(r.DateOfBirth, "date_of_birth", 10) is { } dob)
            dateOfBirth = DateTime.TryParseExact(dob, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
                ? d : throw WalletFailure.Property("date_of_birth", $"must be YYYY-MM-DD; got '{dob}'.");

        await using var connection = await db.OpenConnectionAsync();
        const string sql = """
            insert into players (player_id, player_token, operator_id, brand_id, currency, balance, nickname, gender, country,
                                 date_of_birth, jurisdiction, segments)
            values (@playerId, @token, @operatorId, @brandId, @currency, @balance, @Nickname, @gender, @country,
                    @dateOfBirth::date, @Jurisdiction, @Segments)
            on conflict (player_id) do update set
                player_token = excluded.player_token, operator_id = excluded.operator_id, brand_id = excluded.brand_id,
                currency = excluded.currency, balance = excluded.balance, nickname = excluded.nickname, gender = excluded.gender,
                country = excluded.country, date_of_birth = excluded.date_of_birth, jurisdiction = excluded.jurisdiction,
                segments = excluded.segments, updated_at = now()
            """;
        try
        {
            await connection.ExecuteAsync(sql, new
            {
                playerId, token, operatorId, brandId, currency, balance, r.Nickname, gender, country, dateOfBirth, r.Jurisdiction, r.Segments,
            });
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new WalletFailure(StatusCodes.Status409Conflict, ErrorCodes.TokenInUse, "token is already another player's token.");
        }
        return (await GetAsync(playerId, CancellationToken.None))!;
    }

    public async Task<PlayerView?> GetAsync(string playerId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        const string sql = """
            select player_id as PlayerId, player_token as Token, operator_id as OperatorId, brand_id as BrandId, currency as Currency,
                   balance as Balance, nickname as Nickname, gender as Gender, country as Country,
                   to_char(date_of_birth, 'YYYY-MM-DD') as DateOfBirth, jurisdiction as Jurisdiction, segments as Segments,
                   created_at as CreatedAt, updated_at as UpdatedAt
            from players
            where player_id = @playerId
            """;
        var player = await connection.QuerySingleOrDefaultAsync<PlayerView>(new CommandDefinition(sql, new { playerId }, cancellationToken: ct));
        return player is null ? null : player with { Balance = Currencies.Normalize(player.Balance, player.Currency) };
    }
}
