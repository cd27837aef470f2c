using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace QuantTrader.Alert.Rules;

/// <summary>Alert rules, webhook secrets and firings in PostgreSQL (migration 0301).</summary>
public sealed class RuleStore(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public enum CreateResult
    {
        Created,
        PlanLimit,
    }

    /// <summary>Inserts the rule unless the user already has <paramref name="maxRules"/> (checked under a per-user lock).</summary>
    public async Task<CreateResult> CreateAsync(AlertRule rule, ConditionView condition, int maxRules, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var lockUser = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7))", connection, tx))
        {
            lockUser.Parameters.Add(new() { Value = rule.UserId.ToString() });
            await lockUser.ExecuteNonQueryAsync(ct);
        }

        await using (var count = new NpgsqlCommand("SELECT count(*) FROM alert_rules WHERE user_id = $1", connection, tx))
        {
            count.Parameters.Add(new() { Value = rule.UserId });
            if ((long)(await count.ExecuteScalarAsync(ct))! >= maxRules)
            {
                return CreateResult.PlanLimit;
            }
        }

        await using (var insert = new NpgsqlCommand("""
            INSERT INTO alert_rules (id, user_id, exchange, symbol, condition, webhook_url, repeat, cooldown_seconds)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, connection, tx))
        {
            insert.Parameters.Add(new() { Value = rule.Id });
            insert.Parameters.Add(new() { Value = rule.UserId });
            insert.Parameters.Add(new() { Value = rule.Exchange });
            insert.Parameters.Add(new() { Value = rule.Symbol });
            insert.Parameters.Add(new() { Value = JsonSerializer.Serialize(condition, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new() { Value = (object?)rule.WebhookUrl ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = RuleValidation.RepeatName(rule.Repeat) });
            insert.Parameters.Add(new() { Value = (int)rule.Cooldown.TotalSeconds });
            await insert.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return CreateResult.Created;
    }

    /// <summary>The user's webhook signing secret, created on first use.</summary>
    public async Task<string> SecretAsync(Guid userId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO alert_webhook_secrets (user_id, secret) VALUES ($1, $2)
            ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id
            RETURNING secret
            """);
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = "whsec_" + Base64Url(RandomNumberGenerator.GetBytes(32)) });
        return (string)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task<IReadOnlyList<AlertView>> ListAsync(Guid userId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"{SelectRules} WHERE user_id = $1 ORDER BY created_at, id");
        command.Parameters.Add(new() { Value = userId });
        return [.. (await ReadRulesAsync(command, ct)).Select(r => r.View)];
    }

    public async Task<bool> DeleteAsync(Guid userId, Guid id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM alert_rules WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = userId });
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Every rule that can still fire, for the engine at start-up.</summary>
    public async Task<IReadOnlyList<(AlertRule Rule, AlertView View)>> LoadActiveAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"{SelectRules} WHERE status = 'active'");
        return await ReadRulesAsync(command, ct);
    }

    /// <summary>
    /// Records a firing and the rule's new state in one transaction: a once-rule becomes 'fired', an every-rule
    /// disarmed. Written before the event is published, so a restart can neither lose the event nor fire again.
    /// </summary>
    public async Task RecordFiringAsync(Guid eventId, Firing firing, CancellationToken ct)
    {
        var rule = firing.Rule;
        var batch = dataSource.CreateBatch();
        var insert = new NpgsqlBatchCommand("""
            INSERT INTO alert_firings (event_id, alert_id, user_id, exchange, symbol, time, price, value, message, webhook_url)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (event_id) DO NOTHING
            """);
        insert.Parameters.Add(new() { Value = eventId });
        insert.Parameters.Add(new() { Value = rule.Id });
        insert.Parameters.Add(new() { Value = rule.UserId });
        insert.Parameters.Add(new() { Value = rule.Exchange });
        insert.Parameters.Add(new() { Value = rule.Symbol });
        insert.Parameters.Add(new() { Value = firing.Time });
        insert.Parameters.Add(new() { Value = firing.Price });
        insert.Parameters.Add(new() { Value = (object?)firing.Value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Numeric });
        insert.Parameters.Add(new() { Value = firing.Message });
        insert.Parameters.Add(new() { Value = (object?)rule.WebhookUrl ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        batch.BatchCommands.Add(insert);
        var update = new NpgsqlBatchCommand("UPDATE alert_rules SET status = $2, armed = false, last_fired_at = $3 WHERE id = $1");
        update.Parameters.Add(new() { Value = rule.Id });
        update.Parameters.Add(new() { Value = rule.Repeat == RepeatMode.Once ? "fired" : "active" });
        update.Parameters.Add(new() { Value = firing.Time });
        batch.BatchCommands.Add(update);
        await using (batch)
        {
            // A batch runs in one implicit transaction.
            await batch.ExecuteNonQueryAsync(ct);
        }
    }

    public async Task SetArmedAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("UPDATE alert_rules SET armed = true WHERE id = ANY($1)");
        command.Parameters.Add(new() { Value = ids.ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task MarkPublishedAsync(Guid eventId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("UPDATE alert_firings SET published = true WHERE event_id = $1");
        command.Parameters.Add(new() { Value = eventId });
        await command.ExecuteNonQueryAsync(ct);
    }

    public sealed record StoredFiring(Guid EventId, Guid AlertId, Guid UserId, string Exchange, string Symbol, DateTimeOffset Time, decimal Price, decimal? Value, string Message, string? WebhookUrl);

    /// <summary>Firings recorded but not yet published (the service stopped in between): the outbox.</summary>
    public async Task<IReadOnlyList<StoredFiring>> UnpublishedAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"{SelectFirings} WHERE NOT published ORDER BY created_at");
        return await ReadFiringsAsync(command, ct);
    }

    public async Task<IReadOnlyList<StoredFiring>> EventsAsync(Guid userId, DateTimeOffset? from, DateTimeOffset? to, int limit, CancellationToken ct)
    {
        // With 'from': the first 'limit' from there; without: the newest 'limit'. Ascending either way (API.md).
        var sql = from is null
            ? $"SELECT * FROM ({SelectFirings} WHERE user_id = $1 AND ($3::timestamptz IS NULL OR time <= $3) ORDER BY time DESC, event_id LIMIT $4) newest ORDER BY time, event_id"
            : $"{SelectFirings} WHERE user_id = $1 AND time >= $2 AND ($3::timestamptz IS NULL OR time <= $3) ORDER BY time, event_id LIMIT $4";
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = from.HasValue ? from.Value : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = to.HasValue ? to.Value : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = limit });
        return await ReadFiringsAsync(command, ct);
    }

    public async Task<string?> SecretOfAsync(Guid userId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT secret FROM alert_webhook_secrets WHERE user_id = $1");
        command.Parameters.Add(new() { Value = userId });
        return await command.ExecuteScalarAsync(ct) as string;
    }

    public async Task RecordDeliveryAsync(Guid eventId, int attempt, int? statusCode, string? error, bool succeeded, bool deadLetter, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO alert_webhook_deliveries (event_id, attempt, status_code, error, succeeded, dead_letter)
            VALUES ($1, $2, $3, $4, $5, $6)
            """);
        command.Parameters.Add(new() { Value = eventId });
        command.Parameters.Add(new() { Value = attempt });
        command.Parameters.Add(new() { Value = statusCode.HasValue ? statusCode.Value : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        command.Parameters.Add(new() { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = succeeded });
        command.Parameters.Add(new() { Value = deadLetter });
        await command.ExecuteNonQueryAsync(ct);
    }

    private const string SelectRules = """
        SELECT id, user_id, exchange, symbol, condition::text, webhook_url, repeat, cooldown_seconds, status, armed, last_fired_at, created_at
        FROM alert_rules
        """;

    private const string SelectFirings = """
        SELECT event_id, alert_id, user_id, exchange, symbol, time, price, value, message, webhook_url FROM alert_firings
        """;

    private static async Task<IReadOnlyList<(AlertRule Rule, AlertView View)>> ReadRulesAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var rules = new List<(AlertRule, AlertView)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var condition = JsonSerializer.Deserialize<ConditionView>(reader.GetString(4), Json)!;
            var repeat = reader.GetString(6) == "every" ? RepeatMode.Every : RepeatMode.Once;
            var lastFired = reader.IsDBNull(10) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(10);
            var rule = new AlertRule
            {
                Id = reader.GetGuid(0),
                UserId = reader.GetGuid(1),
                Exchange = reader.GetString(2),
                Symbol = reader.GetString(3),
                Condition = RuleValidation.ToCondition(condition),
                WebhookUrl = reader.IsDBNull(5) ? null : reader.GetString(5),
                Repeat = repeat,
                Cooldown = TimeSpan.FromSeconds(reader.GetInt32(7)),
                Armed = reader.GetBoolean(9),
                LastFired = lastFired,
                Done = reader.GetString(8) != "active",
            };
            var view = new AlertView(rule.Id, rule.Exchange, rule.Symbol, condition, rule.WebhookUrl, reader.GetString(6),
                reader.GetInt32(7), reader.GetString(8), rule.Armed, lastFired, reader.GetFieldValue<DateTimeOffset>(11));
            rules.Add((rule, view));
        }

        return rules;
    }

    private static async Task<IReadOnlyList<StoredFiring>> ReadFiringsAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var firings = new List<StoredFiring>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            firings.Add(new StoredFiring(
                reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5), reader.GetDecimal(6), reader.IsDBNull(7) ? null : reader.GetDecimal(7),
                reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9)));
        }

        return firings;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
