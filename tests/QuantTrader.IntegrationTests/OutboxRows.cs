using Npgsql;

namespace QuantTrader.IntegrationTests;

/// <summary>A user's rows in <c>notification_outbox</c>, read straight from PostgreSQL.</summary>
internal static class OutboxRows
{
    public static Task<List<string>> StatusesAsync(SystemFixture system, Guid userId) =>
        ReadAsync(system, "SELECT status FROM notification_outbox WHERE user_id = $1", userId, reader => reader.GetString(0));

    public static Task<List<Guid>> IdsAsync(SystemFixture system, Guid userId) =>
        ReadAsync(system, "SELECT id FROM notification_outbox WHERE user_id = $1", userId, reader => reader.GetGuid(0));

    private static async Task<List<T>> ReadAsync<T>(SystemFixture system, string sql, Guid userId, Func<NpgsqlDataReader, T> read)
    {
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var query = db.CreateCommand(sql);
        query.Parameters.Add(new() { Value = userId });
        var rows = new List<T>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
