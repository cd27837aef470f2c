using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using QuantTrader.Alert.Notifications;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.Alert.Rules;

/// <summary>Alert rules, webhook secrets and firings in PostgreSQL (migrations 0301, 0304), and the firings' outbox rows (0305).</summary>
public sealed class RuleStore(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public enum CreateResult
    {
        Created,
        PlanLimit,
    }

    /// <summary>What recording a firing found.</summary>
    public enum RecordOutcome
    {
        /// <summary>Recorded now (with its outbox rows), or earlier by this same step but not yet published: publish it.</summary>
        ToPublish,

        /// <summary>Recorded and published before (a replayed step): nothing more to do, no second delivery.</summary>
        AlreadyPublished,

        /// <summary>The rule is gone or a <c>once</c> rule that already fired: nothing is recorded.</summary>
        RuleInactive,
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
            INSERT INTO alert_rules (id, user_id, exchange, symbol, condition, webhook_url, repeat, cooldown_seconds, market_partition, channels)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
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
            insert.Parameters.Add(new() { Value = (short)Partitions.OfMarket(rule.Exchange, rule.Symbol) });
            insert.Parameters.Add(new() { Value = JsonSerializer.Serialize(rule.Channels, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
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

    /// <summary>Deletes one of the user's rules; returns the market it was on (to tell its owner), null when there was none.</summary>
    public async Task<(Guid Id, string Exchange, string Symbol)?> DeleteAsync(Guid userId, Guid id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM alert_rules WHERE id = $1 AND user_id = $2 RETURNING exchange, symbol");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = userId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (id, reader.GetString(0), reader.GetString(1)) : null;
    }

    /// <summary>Every rule of a market partition that can still fire, for its owner when it takes the partition.</summary>
    public async Task<IReadOnlyList<AlertRule>> LoadActiveAsync(int partition, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"{SelectRules} WHERE status = 'active' AND market_partition = $1");
        command.Parameters.Add(new() { Value = (short)partition });
        return [.. (await ReadRulesAsync(command, ct)).Select(r => r.Rule)];
    }

    /// <summary>One rule as stored now (any status); null when it was deleted.</summary>
    public async Task<AlertRule?> LoadAsync(Guid id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"{SelectRules} WHERE id = $1");
        command.Parameters.Add(new() { Value = id });
        return (await ReadRulesAsync(command, ct)).Select(r => r.Rule).FirstOrDefault();
    }

    /// <summary>
    /// Records a firing and the rule's new state in one statement (one transaction): a once-rule becomes 'fired', an
    /// every-rule disarmed. Written before the event is published, so a restart can neither lose the event nor fire
    /// again. Only an active rule fires (a deleted one, or a once-rule that already fired, records nothing), and the
    /// event id is the row's key: a replayed step (same rule, same trigger, same id) records nothing twice and says
    /// whether the first one was already published.
    /// <para>The firing's deliveries (<paramref name="notifications"/>) go into <c>notification_outbox</c> in the same
    /// statement, due at <paramref name="now"/>: a delivery exists exactly when its firing does, and a replayed step,
    /// recording nothing, adds none (their keys derive from the event id; ON CONFLICT DO NOTHING besides).</para>
    /// </summary>
    public async Task<RecordOutcome> RecordFiringAsync(Guid eventId, Firing firing, IReadOnlyList<OutboxEntry> notifications, DateTimeOffset now, CancellationToken ct)
    {
        var rule = firing.Rule;
        // The final SELECT reads the table as it was before this statement: 'published' is the earlier row's flag,
        // null when there was none.
        await using var command = dataSource.CreateCommand("""
            WITH fired AS (
                UPDATE alert_rules SET status = $11, armed = false, last_fired_at = $6
                WHERE id = $2 AND status = 'active'
                RETURNING id),
            recorded AS (
                INSERT INTO alert_firings (event_id, alert_id, user_id, exchange, symbol, time, price, value, message, webhook_url)
                SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM fired
                ON CONFLICT (event_id) DO NOTHING
                RETURNING event_id),
            queued AS (
                INSERT INTO notification_outbox (id, user_id, event_id, kind, channel, target, destination, market_partition, payload, max_attempts, next_attempt_at, created_at, updated_at)
                SELECT n.id, $3, $1, n.kind, n.channel, n.target, n.destination, $12, n.payload::jsonb, n.max_attempts, $13, $13, $13
                FROM recorded CROSS JOIN unnest($14::uuid[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::integer[])
                    AS n(id, kind, channel, target, destination, payload, max_attempts)
                ON CONFLICT (id) DO NOTHING)
            SELECT EXISTS (SELECT 1 FROM recorded), (SELECT published FROM alert_firings WHERE event_id = $1)
            """);
        command.Parameters.Add(new() { Value = eventId });
        command.Parameters.Add(new() { Value = rule.Id });
        command.Parameters.Add(new() { Value = rule.UserId });
        command.Parameters.Add(new() { Value = rule.Exchange });
        command.Parameters.Add(new() { Value = rule.Symbol });
        command.Parameters.Add(new() { Value = firing.Time });
        command.Parameters.Add(new() { Value = firing.Price });
        command.Parameters.Add(new() { Value = (object?)firing.Value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Numeric });
        command.Parameters.Add(new() { Value = firing.Message });
        command.Parameters.Add(new() { Value = (object?)rule.WebhookUrl ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = rule.Repeat == RepeatMode.Once ? "fired" : "active" });
        command.Parameters.Add(new() { Value = (short)Partitions.OfMarket(rule.Exchange, rule.Symbol) });
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = notifications.Select(n => n.Id).ToArray() });
        command.Parameters.Add(new() { Value = notifications.Select(n => n.Kind).ToArray() });
        command.Parameters.Add(new() { Value = notifications.Select(n => n.Channel).ToArray() });
        command.Parameters.Add(new() { Value = notifications.Select(n => n.Target).ToArray() });
        command.Parameters.Add(new() { Value = notifications.Select(n => n.Destination).ToArray() });
        command.Parameters.Add(new() { Value = notifications.Select(n => n.Payload).ToArray() });
        command.Parameters.Add(new() { Value = notifications.Select(n => n.MaxAttempts).ToArray() });
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetBoolean(0) ? RecordOutcome.ToPublish
            : reader.IsDBNull(1) ? RecordOutcome.RuleInactive
            : reader.GetBoolean(1) ? RecordOutcome.AlreadyPublished
            : RecordOutcome.ToPublish;
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

    /// <summary>Firings of a partition's markets recorded but not yet published (its owner stopped in between): the outbox.</summary>
    public async Task<IReadOnlyList<StoredFiring>> UnpublishedAsync(int partition, CancellationToken ct)
    {
        // Few rows (only what an owner left half-done), found by the partial index; the partition is computed here.
        await using var command = dataSource.CreateCommand($"{SelectFirings} WHERE NOT published ORDER BY created_at");
        return [.. (await ReadFiringsAsync(command, ct)).Where(f => Partitions.OfMarket(f.Exchange, f.Symbol) == partition)];
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

    private const string SelectRules = """
        SELECT id, user_id, exchange, symbol, condition::text, webhook_url, repeat, cooldown_seconds, status, armed, last_fired_at, created_at, channels::text
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
                Channels = JsonSerializer.Deserialize<List<RuleChannel>>(reader.GetString(12), Json)!,
            };
            var view = new AlertView(rule.Id, rule.Exchange, rule.Symbol, condition, rule.WebhookUrl, reader.GetString(6),
                reader.GetInt32(7), reader.GetString(8), rule.Armed, lastFired, reader.GetFieldValue<DateTimeOffset>(11),
                Channels: [.. rule.Channels.Select(c => c.Id)]);
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
