using Npgsql;
using QuantTrader.Accounts.Keys;

namespace QuantTrader.Accounts.Users;

public sealed record User(Guid Id, string Email, string Plan, string? StripeCustomerId, DateTimeOffset CreatedAt);

public sealed record KeyInfo(Guid Id, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>Users, their hashed API keys and their plan, in PostgreSQL (tables from migration 0001).</summary>
public sealed class UserStore(NpgsqlDataSource db)
{
    /// <summary>Creates the user with a first key; null when the email is taken.</summary>
    public async Task<(User User, Guid KeyId, string Key)?> CreateAsync(string email, CancellationToken ct)
    {
        var user = new User(Guid.CreateVersion7(), email, "free", null, DateTimeOffset.UtcNow);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO users (id, email, plan, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING", connection, tx))
        {
            insert.Parameters.Add(new() { Value = user.Id });
            insert.Parameters.Add(new() { Value = email });
            insert.Parameters.Add(new() { Value = user.Plan });
            insert.Parameters.Add(new() { Value = user.CreatedAt });
            if (await insert.ExecuteNonQueryAsync(ct) == 0)
            {
                return null;
            }
        }
        var (keyId, key) = await InsertKeyAsync(connection, tx, user.Id, ct);
        await tx.CommitAsync(ct);
        return (user, keyId, key);
    }

    public async Task<(Guid KeyId, string Key)> CreateKeyAsync(Guid userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await InsertKeyAsync(connection, null, userId, ct);
    }

    private static async Task<(Guid, string)> InsertKeyAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, Guid userId, CancellationToken ct)
    {
        var key = ApiKey.Generate();
        var id = Guid.CreateVersion7();
        await using var insert = new NpgsqlCommand("INSERT INTO api_keys (id, user_id, prefix, hash) VALUES ($1, $2, $3, $4)", connection, tx);
        insert.Parameters.Add(new() { Value = id });
        insert.Parameters.Add(new() { Value = userId });
        insert.Parameters.Add(new() { Value = ApiKey.PrefixOf(key) });
        insert.Parameters.Add(new() { Value = ApiKey.Hash(key) });
        await insert.ExecuteNonQueryAsync(ct);
        return (id, key);
    }

    /// <summary>The owner of an active (not revoked) key.</summary>
    public async Task<User?> FindByKeyAsync(string key, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT u.id, u.email, u.plan, u.stripe_customer_id, u.created_at
            FROM api_keys k JOIN users u ON u.id = k.user_id
            WHERE k.hash = $1 AND k.revoked_at IS NULL
            """);
        command.Parameters.Add(new() { Value = ApiKey.Hash(key) });
        return await ReadUserAsync(command, ct);
    }

    public async Task<User?> FindAsync(Guid userId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT id, email, plan, stripe_customer_id, created_at FROM users WHERE id = $1");
        command.Parameters.Add(new() { Value = userId });
        return await ReadUserAsync(command, ct);
    }

    public async Task<User?> FindByStripeCustomerAsync(string customerId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT id, email, plan, stripe_customer_id, created_at FROM users WHERE stripe_customer_id = $1");
        command.Parameters.Add(new() { Value = customerId });
        return await ReadUserAsync(command, ct);
    }

    public async Task<IReadOnlyList<KeyInfo>> ListKeysAsync(Guid userId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT id, prefix, created_at, revoked_at FROM api_keys WHERE user_id = $1 ORDER BY created_at");
        command.Parameters.Add(new() { Value = userId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var keys = new List<KeyInfo>();
        while (await reader.ReadAsync(ct))
        {
            keys.Add(new KeyInfo(reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3)));
        }
        return keys;
    }

    public enum RevokeResult { Revoked, NotFound, LastActiveKey }

    /// <summary>Revokes one of the user's keys, never their last active one (that would lock them out).</summary>
    public async Task<RevokeResult> RevokeKeyAsync(Guid userId, Guid keyId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Lock the user's keys so two concurrent revocations cannot both pass the "not the last" check.
        await using var active = new NpgsqlCommand(
            "SELECT id FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL FOR UPDATE", connection, tx);
        active.Parameters.Add(new() { Value = userId });
        var activeIds = new List<Guid>();
        await using (var reader = await active.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                activeIds.Add(reader.GetGuid(0));
            }
        }
        if (!activeIds.Contains(keyId))
        {
            return RevokeResult.NotFound;
        }
        if (activeIds.Count == 1)
        {
            return RevokeResult.LastActiveKey;
        }
        await using var revoke = new NpgsqlCommand("UPDATE api_keys SET revoked_at = now() WHERE id = $1", connection, tx);
        revoke.Parameters.Add(new() { Value = keyId });
        await revoke.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return RevokeResult.Revoked;
    }

    public async Task SetStripeCustomerAsync(Guid userId, string customerId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("UPDATE users SET stripe_customer_id = $2 WHERE id = $1 AND stripe_customer_id IS NULL");
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = customerId });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Records a Stripe event and moves the plan in one transaction; false when the event was seen before
    /// (a replay changes nothing).
    /// </summary>
    public enum StripeEventResult
    {
        Applied,

        /// <summary>The event id was handled before.</summary>
        Replayed,

        /// <summary>The subscription already has a newer (or final) state; the event was recorded, not applied.</summary>
        Stale,
    }

    /// <summary>
    /// Records a Stripe event once and applies its plan move, in one transaction. With <paramref name="order"/> the
    /// move applies only if the event is not older than the newest event applied to that subscription (equal times
    /// apply: Stripe gives seconds) and the subscription has not ended (migration 0004).
    /// </summary>
    public async Task<StripeEventResult> ApplyStripeEventAsync(
        string eventId, string eventType, Guid? userId, string? newPlan, string reason, StripeSubscriptionOrder? order, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var seen = new NpgsqlCommand("INSERT INTO stripe_events (id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING", connection, tx))
        {
            seen.Parameters.Add(new() { Value = eventId });
            seen.Parameters.Add(new() { Value = eventType });
            if (await seen.ExecuteNonQueryAsync(ct) == 0)
            {
                return StripeEventResult.Replayed;
            }
        }
        if (order is not null && !await AdvanceSubscriptionAsync(connection, tx, eventId, eventType, userId, order, ct))
        {
            await tx.CommitAsync(ct); // the event id stays handled: a retry of a stale event is a replay
            return StripeEventResult.Stale;
        }
        if (userId is { } id && newPlan is not null)
        {
            // Each statement on its own: positional parameters do not span several statements.
            await using (var history = new NpgsqlCommand("""
                INSERT INTO plan_changes (user_id, from_plan, to_plan, reason)
                SELECT id, plan, $2, $3 FROM users WHERE id = $1 AND plan <> $2
                """, connection, tx))
            {
                history.Parameters.Add(new() { Value = id });
                history.Parameters.Add(new() { Value = newPlan });
                history.Parameters.Add(new() { Value = reason });
                await history.ExecuteNonQueryAsync(ct);
            }
            await using var move = new NpgsqlCommand("UPDATE users SET plan = $2 WHERE id = $1", connection, tx);
            move.Parameters.Add(new() { Value = id });
            move.Parameters.Add(new() { Value = newPlan });
            await move.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return StripeEventResult.Applied;
    }

    /// <summary>Moves the subscription's last applied event forward; false when this event is older or the subscription ended.</summary>
    private static async Task<bool> AdvanceSubscriptionAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, string eventId, string eventType, Guid? userId, StripeSubscriptionOrder order, CancellationToken ct)
    {
        // Serializes the events of one subscription, including its first (no row to lock yet).
        await using (var lockSubscription = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 16))", connection, tx))
        {
            lockSubscription.Parameters.Add(new() { Value = order.SubscriptionId });
            await lockSubscription.ExecuteNonQueryAsync(ct);
        }
        await using (var current = new NpgsqlCommand(
            "SELECT last_event_created, ended FROM stripe_subscriptions WHERE subscription_id = $1", connection, tx))
        {
            current.Parameters.Add(new() { Value = order.SubscriptionId });
            await using var reader = await current.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct) && (reader.GetBoolean(1) || order.Created < reader.GetFieldValue<DateTimeOffset>(0)))
            {
                return false;
            }
        }
        await using var advance = new NpgsqlCommand("""
            INSERT INTO stripe_subscriptions (subscription_id, user_id, last_event_id, last_event_type, last_event_created, ended)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (subscription_id) DO UPDATE SET
                user_id = COALESCE(EXCLUDED.user_id, stripe_subscriptions.user_id),
                last_event_id = EXCLUDED.last_event_id,
                last_event_type = EXCLUDED.last_event_type,
                last_event_created = EXCLUDED.last_event_created,
                ended = EXCLUDED.ended,
                updated_at = now()
            """, connection, tx);
        advance.Parameters.Add(new() { Value = order.SubscriptionId });
        advance.Parameters.Add(new() { Value = userId.HasValue ? userId.Value : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        advance.Parameters.Add(new() { Value = eventId });
        advance.Parameters.Add(new() { Value = eventType });
        advance.Parameters.Add(new() { Value = order.Created });
        advance.Parameters.Add(new() { Value = order.Ends });
        await advance.ExecuteNonQueryAsync(ct);
        return true;
    }

    private static async Task<User?> ReadUserAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return new User(reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4));
    }
}

/// <summary>Which subscription a Stripe event is about, when it was created, and whether it ends the subscription.</summary>
public sealed record StripeSubscriptionOrder(string SubscriptionId, DateTimeOffset Created, bool Ends);
