using System.Text.Json;
using Npgsql;
using QuantTrader.Alert.Notifications;

namespace QuantTrader.Alert.Channels;

/// <summary>A user's notification channels in <c>notification_channels</c> (migration 0306), settings encrypted.
/// Every query names the user: a channel is found only by its owner.</summary>
public sealed class ChannelStore(NpgsqlDataSource dataSource, ChannelSecrets secrets)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<ChannelView> CreateAsync(Guid userId, string type, string name, ChannelSettings settings, string hint, DateTimeOffset now, CancellationToken ct)
    {
        var id = Guid.CreateVersion7(now);
        await using var command = dataSource.CreateCommand(
            "INSERT INTO notification_channels (id, user_id, type, name, settings, hint, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = type });
        command.Parameters.Add(new() { Value = name });
        command.Parameters.Add(new() { Value = secrets.Protect(JsonSerializer.Serialize(settings, Json)) });
        command.Parameters.Add(new() { Value = hint });
        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(ct);
        return new ChannelView(id, type, name, hint, now);
    }

    public async Task<IReadOnlyList<ChannelView>> ListAsync(Guid userId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, type, name, hint, created_at FROM notification_channels WHERE user_id = $1 ORDER BY created_at, id");
        command.Parameters.Add(new() { Value = userId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var views = new List<ChannelView>();
        while (await reader.ReadAsync(ct))
        {
            views.Add(new ChannelView(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return views;
    }

    public async Task<bool> DeleteAsync(Guid userId, Guid id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM notification_channels WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = userId });
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>The types of those of <paramref name="ids"/> the user owns (a rule may name only its user's channels).</summary>
    public async Task<IReadOnlyDictionary<Guid, string>> TypesAsync(Guid userId, IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT id, type FROM notification_channels WHERE user_id = $1 AND id = ANY($2)");
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = ids.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var types = new Dictionary<Guid, string>();
        while (await reader.ReadAsync(ct))
        {
            types[reader.GetGuid(0)] = reader.GetString(1);
        }

        return types;
    }

    /// <summary>One of the user's channels with its settings decrypted; null when it does not exist (or was deleted).</summary>
    public async Task<UserChannel?> FindAsync(Guid userId, Guid id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT type, name, settings FROM notification_channels WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = userId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        var settings = JsonSerializer.Deserialize<ChannelSettings>(secrets.Unprotect(reader.GetString(2)), Json)!;
        return new UserChannel(id, userId, reader.GetString(0), reader.GetString(1), settings);
    }

    /// <summary>A delivery that belongs to no recorded event (a channel test): into the outbox on its own.</summary>
    public async Task EnqueueAsync(Guid userId, Guid eventId, OutboxEntry entry, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO notification_outbox (id, user_id, event_id, kind, channel, target, destination, payload, max_attempts, next_attempt_at, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $10, $10)
            ON CONFLICT (id) DO NOTHING
            """);
        command.Parameters.Add(new() { Value = entry.Id });
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = eventId });
        command.Parameters.Add(new() { Value = entry.Kind });
        command.Parameters.Add(new() { Value = entry.Channel });
        command.Parameters.Add(new() { Value = entry.Target });
        command.Parameters.Add(new() { Value = entry.Destination });
        command.Parameters.Add(new() { Value = entry.Payload });
        command.Parameters.Add(new() { Value = entry.MaxAttempts });
        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(ct);
    }
}
