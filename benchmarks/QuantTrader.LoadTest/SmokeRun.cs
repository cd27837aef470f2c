using Npgsql;

namespace QuantTrader.LoadTest;

/// <summary>
/// <c>--mode smoke</c>: the end-to-end run for a few seconds at a low rate, then a check of the harness's own
/// accounting, so the figures it reports can be trusted (issue 10; run by the test suite, LoadHarnessSmokeTests).
/// <list type="number">
/// <item>Nothing lost and nothing doubled at a rate the system sustains: every trade the simulator printed in the
/// window (sent) is counted stored, once.</item>
/// <item>A duplicate is seen when there is one: a copy of one stored trade (same exchange, symbol and trade id, a
/// microsecond later — the key also holds the time, so PostgreSQL accepts it) is inserted behind the system's back,
/// and the same count must now report exactly one duplicate.</item>
/// </list>
/// Exit code 0 and a line starting <c>smoke: ok</c> when both hold; 1 and the reason otherwise.
/// </summary>
public static class SmokeRun
{
    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        var options = LoadOptions.Parse(args, new Dictionary<string, double>
        {
            ["rate"] = 200,
            ["duration"] = 5,
            ["raw-samples"] = 2_000,
            ["orders"] = 20,
        }) with
        {
            // Never the recorded benchmark: a smoke run's figures mean nothing.
            Report = Path.Combine(Path.GetTempPath(), $"quanttrader-smoke-{Guid.NewGuid():N}.md"),
        };

        Console.WriteLine("smoke: starting QuantTrader in simulator mode …");
        await using var system = await SystemUnderTest.StartAsync(ct);
        var result = await new LoadRun(system, options).RunAsync(ct);
        Console.WriteLine(Report.FinalLine(result));

        if (result.Expected == 0)
        {
            return Fail("the simulator printed no trades in the window");
        }
        if (result.Lost != 0 || result.Duplicated != 0 || result.Stored != result.Expected)
        {
            return Fail($"sent {result.Expected}, stored {result.Stored}, duplicated {result.Duplicated}, lost {result.Lost}");
        }

        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        var window = result.Window!;
        var (exchange, symbol) = window.Start.Keys.First(m => window.End[m] > window.Start[m]);
        await using (var inject = db.CreateCommand("""
            INSERT INTO trades (exchange, symbol, trade_id, time, price, quantity, side, count)
            SELECT exchange, symbol, trade_id, time + interval '1 microsecond', price, quantity, side, count
            FROM trades WHERE exchange = $1 AND symbol = $2 AND trade_id = $3
            """))
        {
            inject.Parameters.Add(new() { Value = exchange });
            inject.Parameters.Add(new() { Value = symbol });
            inject.Parameters.Add(new() { Value = window.End[(exchange, symbol)] });
            if (await inject.ExecuteNonQueryAsync(ct) != 1)
            {
                return Fail($"could not copy trade {exchange}:{symbol}:{window.End[(exchange, symbol)]} to inject a duplicate");
            }
        }

        var (count, distinct) = await LoadRun.CountStoredAsync(db, window.Start, window.End, ct);
        if (count - distinct != 1 || distinct != result.Expected)
        {
            return Fail($"after injecting one duplicate the count says {count - distinct} duplicated of {distinct} distinct (expected 1 of {result.Expected})");
        }

        Console.WriteLine($"smoke: ok sent={result.Expected} stored={result.Stored} duplicated=0 lost=0; one injected duplicate detected");
        return 0;
    }

    private static int Fail(string reason)
    {
        Console.WriteLine($"smoke: FAILED {reason}");
        return 1;
    }
}
