using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ThrillPots.Contributions;
using ThrillSuite.Data.Migrations;
using ThrillSuite.Testing;

namespace ThrillPots.Tests;

/// <summary>
/// 0011_contributors.sql on a ledger that already holds rows: each instance's totals hold exactly its rows up to 5 s before
/// its latest one, its mark says so, and an instance without rows keeps "-infinity" (everything after the mark).
/// </summary>
public class ContributorMigrationTests
{
    [Test]
    public async Task The_migration_folds_each_instances_ledger_up_to_five_seconds_before_its_latest_row()
    {
        var connectionString = TestEnvironment.UniqueDatabase("tp_contributor_migration", out var name);
        try
        {
            var all = MigrationRunner.Load(typeof(ContributionEngine).Assembly);
            var before = all.Where(m => m.Module != "ThrillPots" || m.Version < 11).ToList();
            Assert.That(before, Has.Count.EqualTo(all.Count - 1));
            await MigrationRunner.MigrateAsync(connectionString, before, NullLogger.Instance, CancellationToken.None);

            await using var c = new NpgsqlConnection(connectionString);
            // Instance a: 300 rows a second apart, 30 players, the last 10 in USD; instance b: 1 row; instance c: none.
            await c.ExecuteAsync("""
                insert into templates (id, owner_id, name, currency, jackpot_type, definition) values (@t, 'op', 't', 'EUR', 'Progressive', '{}');
                insert into instances (id, template_id, owner_id, name, currency, state, allowed_brands)
                select i, @t, 'op', 'i', 'EUR', 'Active', array['op:brand'] from unnest(array[@a, @b, @c]) i;
                insert into contributions (id, instance_id, brand_id, player_id, gameround_id, request_hash, player_currency, base_wager,
                    value, player_value, base_currency, player_multiplier, jackpot_multiplier, house_share, pot_shares, created_at)
                select gen_random_uuid(), @a, 'op:brand', 'p' || (g % 30), 'r' || g, '\x00'::bytea, case when g > 290 then 'USD' else 'EUR' end, 1,
                       g * 0.01, 0.1, 'EUR', 1, 1, 0, array[g * 0.01], timestamptz '2026-01-01Z' + g * interval '1 second'
                from generate_series(1, 300) g
                union all
                select gen_random_uuid(), @b, 'op:brand', 'q', 'r', '\x00'::bytea, 'EUR', 1, 1, 1, 'EUR', 1, 1, 0, array[1], timestamptz '2026-02-01Z';
                """, new { t = Guid.NewGuid(), a = A, b = B, c = C });

            await MigrationRunner.MigrateAsync(connectionString, all, NullLogger.Instance, CancellationToken.None);

            var marks = (await c.QueryAsync<(Guid Id, string Mark)>("select id, totals_through::text from instances"))
                .ToDictionary(r => r.Id, r => r.Mark);
            Assert.That(marks[A], Is.EqualTo("2026-01-01 00:04:55+00"), "300 s after the start, less 5 s");
            Assert.That(marks[B], Is.EqualTo("2026-01-31 23:59:55+00"));
            Assert.That(marks[C], Is.EqualTo("-infinity"));

            var mismatches = await c.ExecuteScalarAsync<long>("""
                select count(*)
                from (select c.instance_id, c.brand_id, c.player_id, count(*) n, sum(c.value) v, min(c.created_at) f, max(c.created_at) l,
                             (array_agg(c.player_currency order by c.created_at desc))[1] cur
                      from contributions c join instances i on i.id = c.instance_id where c.created_at <= i.totals_through group by 1, 2, 3) x
                full join contributors t using (instance_id, brand_id, player_id)
                where x.n is distinct from t.contributions or x.v is distinct from t.value or x.f is distinct from t.first_at
                   or x.l is distinct from t.last_at or x.cur is distinct from t.player_currency
                """);
            Assert.That(mismatches, Is.Zero);
            // Rows 1–295 of a folded (30 players), rows 296–300 after the mark; b's only row is after its mark.
            Assert.That(await c.ExecuteScalarAsync<long>("select sum(contributions) from contributors where instance_id = @A", new { A }), Is.EqualTo(295));
            Assert.That(await c.ExecuteScalarAsync<long>("select count(*) from contributors where instance_id <> @A", new { A }), Is.Zero);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await TestEnvironment.DropDatabaseAsync(name);
        }
    }

    static readonly Guid A = Guid.Parse("00000000-0000-0000-0000-0000000000a1"),
        B = Guid.Parse("00000000-0000-0000-0000-0000000000b1"),
        C = Guid.Parse("00000000-0000-0000-0000-0000000000c1");
}
