using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace ThrillSuite.Benchmarks;

/// <summary>
/// The contributions benchmark's baseline: how a contribution is commonly written, one transaction each, on tables of its
/// own next to ThrillPots' (naive_pots and naive_contributions, created LIKE pots and contributions, so the ledger row and
/// its unique key are the same): lock the instance's pot rows, insert the ledger row, update each pot, commit. Same
/// contribution as the benchmark's template (0.1: 0.03 house, 0.04 and 0.03 to the pots, half of each to its reseed fund).
/// </summary>
sealed class NaiveBaseline : IAsyncDisposable
{
    const decimal Value = 0.1m, HouseShare = 0.03m;
    static readonly decimal[] PotShares = [0.04m, 0.03m];
    static readonly string[] PotIds = ["small", "big"];
    const string Metadata = """{"bet_id":"b-1"}""";
    // What ThrillPots' request_hash covers (currency, base wager, country, metadata) is the same for every contribution here.
    static readonly byte[] Hash = SHA256.HashData(Encoding.UTF8.GetBytes($"EUR\n1\nMT\n{Metadata}"));

    readonly NpgsqlDataSource db;
    readonly Guid[] instances;
    long sequence;

    NaiveBaseline(NpgsqlDataSource db, Guid[] instances)
    {
        this.db = db;
        this.instances = instances;
    }

    public static async Task<NaiveBaseline> CreateAsync(string connectionString, int instanceCount, int concurrency)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = Math.Max(100, concurrency) };
        var db = NpgsqlDataSource.Create(builder.ConnectionString);
        var instances = Enumerable.Range(0, instanceCount).Select(_ => Guid.CreateVersion7()).ToArray();
        await using var c = await db.OpenConnectionAsync();
        await using var create = new NpgsqlBatch(c)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("create table naive_pots (like pots including all)"),
                new NpgsqlBatchCommand("create table naive_contributions (like contributions including all)"),
                new NpgsqlBatchCommand("""
                    insert into naive_pots (instance_id, pot_id, position, initial_seed, value)
                    select i, p.pot_id, p.position, p.seed, p.seed
                    from unnest($1::uuid[]) i cross join (values ('small', 0, 10), ('big', 1, 100)) p(pot_id, position, seed)
                    """) { Parameters = { new NpgsqlParameter { Value = instances } } },
            },
        };
        await create.ExecuteNonQueryAsync();
        return new NaiveBaseline(db, instances);
    }

    public async Task<ContributionsBenchmark.CallOutcome> ContributeAsync()
    {
        var seq = Interlocked.Increment(ref sequence);
        var instance = instances[seq % instances.Length];
        var player = "p" + (seq / instances.Length % ContributionsBenchmark.Players);
        var gameround = "n" + seq;

        await using var c = await db.OpenConnectionAsync();
        await using var tx = await c.BeginTransactionAsync();
        var pots = new (decimal Value, decimal Fund)[PotIds.Length];
        await using (var select = new NpgsqlCommand("select value, reseed_fund from naive_pots where instance_id = $1 order by position for update", c, tx))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = instance });
            await using var r = await select.ExecuteReaderAsync();
            for (var i = 0; await r.ReadAsync(); i++) pots[i] = (r.GetDecimal(0), r.GetDecimal(1));
        }
        await using (var insert = new NpgsqlCommand("""
            insert into naive_contributions (id, instance_id, brand_id, player_id, gameround_id, request_hash, player_country, player_currency,
                base_wager, value, player_value, base_currency, player_multiplier, jackpot_multiplier, house_share, pot_shares, metadata)
            values ($1, $2, $3, $4, $5, $6, 'MT', 'EUR', 1, $7, $7, 'EUR', 1, 1, $8, $9, $10)
            """, c, tx))
        {
            foreach (var value in new object[] { Guid.CreateVersion7(), instance, ContributionsBenchmark.BrandId, player, gameround, Hash, Value, HouseShare, PotShares })
                insert.Parameters.Add(new NpgsqlParameter { Value = value });
            insert.Parameters.Add(new NpgsqlParameter { Value = Metadata, NpgsqlDbType = NpgsqlDbType.Jsonb });
            await insert.ExecuteNonQueryAsync();
        }
        for (var i = 0; i < PotIds.Length; i++)
        {
            await using var update = new NpgsqlCommand("""
                update naive_pots set value = $3, reseed_fund = $4, version = version + 1, updated_at = now() where instance_id = $1 and pot_id = $2
                """, c, tx);
            foreach (var value in new object[] { instance, PotIds[i], pots[i].Value + PotShares[i] / 2, pots[i].Fund + PotShares[i] / 2 })
                update.Parameters.Add(new NpgsqlParameter { Value = value });
            await update.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
        return new ContributionsBenchmark.CallOutcome(1);
    }

    public ValueTask DisposeAsync() => db.DisposeAsync();
}
