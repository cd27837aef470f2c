using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace QuantTrader.Alert.Notifications;

/// <summary>
/// <c>notification_outbox</c> (migration 0305): claiming due deliveries, and every change a worker or a user makes to
/// one. Rows are written by the statement that records their event (<c>RuleStore.RecordFiringAsync</c>). Every change
/// a worker makes is conditional on its claim token, so a worker whose claim lapsed (stalled, or its rows taken over
/// after it seemed dead) changes nothing and sends nothing.
/// </summary>
public sealed class OutboxStore(NpgsqlDataSource dataSource)
{
    public const string Pending = "pending", Delivering = "delivering", Delivered = "delivered", Failed = "failed";

    /// <summary>
    /// Claims up to <paramref name="limit"/> due rows — pending ones whose attempt is due, and delivering ones whose claim
    /// lapsed (their worker died) — skipping rows another worker is claiming this instant and the destinations this
    /// worker will not take more of (<paramref name="skipDestinations"/>: breaker open, or holding enough).
    /// </summary>
    public async Task<IReadOnlyList<OutboxDelivery>> ClaimAsync(
        string claimer, int limit, IReadOnlyCollection<string> skipDestinations, DateTimeOffset now, DateTimeOffset until, CancellationToken ct)
    {
        var token = Guid.CreateVersion7();
        await using var command = dataSource.CreateCommand("""
            UPDATE notification_outbox o
            SET status = 'delivering', claimed_by = $1, claim_token = $2, next_attempt_at = $3, updated_at = $4
            FROM (SELECT id FROM notification_outbox
                  WHERE status IN ('pending', 'delivering') AND next_attempt_at <= $4 AND destination <> ALL($5)
                  ORDER BY next_attempt_at
                  LIMIT $6
                  FOR UPDATE SKIP LOCKED) due
            WHERE o.id = due.id
            RETURNING o.id, o.user_id, o.event_id, o.kind, o.channel, o.target, o.destination, o.payload::text, o.attempts, o.max_attempts
            """);
        command.Parameters.Add(new() { Value = claimer });
        command.Parameters.Add(new() { Value = token });
        command.Parameters.Add(new() { Value = until });
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = skipDestinations.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = limit });
        var claimed = new List<OutboxDelivery>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            using var payload = JsonDocument.Parse(reader.GetString(7));
            claimed.Add(new OutboxDelivery(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), payload.RootElement.Clone(), reader.GetInt32(8), reader.GetInt32(9), token));
        }

        return claimed;
    }

    /// <summary>
    /// Starts an attempt: counts it and extends the claim to cover it. Null when the claim is no longer this worker's
    /// (it lapsed and another worker took the row): then this worker must not send.
    /// </summary>
    public async Task<int?> BeginAttemptAsync(OutboxDelivery delivery, DateTimeOffset now, DateTimeOffset until, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE notification_outbox SET attempts = attempts + 1, next_attempt_at = $3, updated_at = $4
            WHERE id = $1 AND claim_token = $2 AND status = 'delivering'
            RETURNING attempts
            """);
        command.Parameters.Add(new() { Value = delivery.Id });
        command.Parameters.Add(new() { Value = delivery.ClaimToken });
        command.Parameters.Add(new() { Value = until });
        command.Parameters.Add(new() { Value = now });
        return await command.ExecuteScalarAsync(ct) is int attempts ? attempts : null;
    }

    /// <summary>
    /// Ends an attempt and the claim in one statement: the row becomes <paramref name="status"/> (delivered, pending again
    /// until <paramref name="nextAttempt"/>, or failed) and the attempt is recorded in <c>alert_webhook_deliveries</c>,
    /// followed by a dead-letter row when it failed for good. False when the claim was no longer this worker's.
    /// </summary>
    public async Task<bool> FinishAttemptAsync(OutboxDelivery delivery, string status, DateTimeOffset? nextAttempt, ChannelResult result, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            WITH finished AS (
                UPDATE notification_outbox
                SET status = $3, next_attempt_at = COALESCE($4, next_attempt_at), claimed_by = NULL, claim_token = NULL,
                    last_status_code = $5, last_error = $6, updated_at = $7,
                    delivered_at = CASE WHEN $3 = 'delivered' THEN $7 ELSE delivered_at END
                WHERE id = $1 AND claim_token = $2 AND status = 'delivering'
                RETURNING id, event_id, attempts)
            INSERT INTO alert_webhook_deliveries (event_id, attempt, time, status_code, error, succeeded, dead_letter, notification_id)
            SELECT event_id, attempts, $7, $5, $6, $3 = 'delivered', false, id FROM finished
            UNION ALL
            SELECT event_id, attempts, $7, $5, $6, false, true, id FROM finished WHERE $3 = 'failed'
            """);
        command.Parameters.Add(new() { Value = delivery.Id });
        command.Parameters.Add(new() { Value = delivery.ClaimToken });
        command.Parameters.Add(new() { Value = status });
        command.Parameters.Add(new() { Value = nextAttempt.HasValue ? nextAttempt.Value : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = result.StatusCode.HasValue ? result.StatusCode.Value : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        command.Parameters.Add(new() { Value = (object?)result.Error ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = now });
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>
    /// Gives claimed rows back (shutdown, an open breaker, our own failure before sending): pending again from
    /// <paramref name="dueAt"/>, and an attempt begun but cut off (<paramref name="begun"/>) not counted.
    /// </summary>
    public async Task ReleaseAsync(IReadOnlyCollection<(OutboxDelivery Delivery, bool Begun)> deliveries, DateTimeOffset dueAt, DateTimeOffset now, CancellationToken ct)
    {
        if (deliveries.Count == 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand("""
            UPDATE notification_outbox o
            SET status = 'pending', claimed_by = NULL, claim_token = NULL, next_attempt_at = $4, updated_at = $5,
                attempts = o.attempts - CASE WHEN r.begun THEN 1 ELSE 0 END
            FROM unnest($1::uuid[], $2::uuid[], $3::boolean[]) AS r(id, token, begun)
            WHERE o.id = r.id AND o.claim_token = r.token AND o.status = 'delivering'
            """);
        command.Parameters.Add(new() { Value = deliveries.Select(d => d.Delivery.Id).ToArray() });
        command.Parameters.Add(new() { Value = deliveries.Select(d => d.Delivery.ClaimToken).ToArray() });
        command.Parameters.Add(new() { Value = deliveries.Select(d => d.Begun).ToArray() });
        command.Parameters.Add(new() { Value = dueAt });
        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// At start: rows an earlier run of this same replica (same instance name) had claimed when it died are due now —
    /// that process is gone, so nobody is attempting them — instead of after their claim lapses.
    /// </summary>
    public async Task<int> RecoverClaimsOfAsync(string claimer, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE notification_outbox SET status = 'pending', claimed_by = NULL, claim_token = NULL, next_attempt_at = $2, updated_at = $2
            WHERE status = 'delivering' AND claimed_by = $1
            """);
        command.Parameters.Add(new() { Value = claimer });
        command.Parameters.Add(new() { Value = now });
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The user's deliveries, newest first, optionally of one status.</summary>
    public async Task<IReadOnlyList<NotificationView>> ListAsync(Guid userId, string? status, int limit, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"{SelectViews} WHERE user_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC, id LIMIT $3");
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = limit });
        return await ReadViewsAsync(command, ct);
    }

    public enum ResendResult
    {
        Resent,
        NotFound,
        NotFailed,
    }

    /// <summary>
    /// A failed delivery of the user's, pending again now with <paramref name="moreAttempts"/> more attempts and the same
    /// idempotency key (a receiver that did act on an earlier attempt recognises it).
    /// </summary>
    public async Task<(ResendResult Result, NotificationView? View)> ResendAsync(Guid userId, Guid id, int moreAttempts, DateTimeOffset now, CancellationToken ct)
    {
        await using (var resend = dataSource.CreateCommand("""
            UPDATE notification_outbox SET status = 'pending', max_attempts = attempts + $3, next_attempt_at = $4, updated_at = $4
            WHERE id = $1 AND user_id = $2 AND status = 'failed'
            """))
        {
            resend.Parameters.Add(new() { Value = id });
            resend.Parameters.Add(new() { Value = userId });
            resend.Parameters.Add(new() { Value = moreAttempts });
            resend.Parameters.Add(new() { Value = now });
            var resent = await resend.ExecuteNonQueryAsync(ct) > 0;
            await using var read = dataSource.CreateCommand($"{SelectViews} WHERE id = $1 AND user_id = $2");
            read.Parameters.Add(new() { Value = id });
            read.Parameters.Add(new() { Value = userId });
            var view = (await ReadViewsAsync(read, ct)).FirstOrDefault();
            return (view is null ? ResendResult.NotFound : resent ? ResendResult.Resent : ResendResult.NotFailed, view);
        }
    }

    private const string SelectViews = """
        SELECT id, event_id, kind, channel, target, status, attempts, max_attempts, next_attempt_at, last_status_code, last_error,
               created_at, updated_at, delivered_at
        FROM notification_outbox
        """;

    private static async Task<IReadOnlyList<NotificationView>> ReadViewsAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var views = new List<NotificationView>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var status = reader.GetString(5);
            views.Add(new NotificationView(
                reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), status,
                reader.GetInt32(6), reader.GetInt32(7),
                status is Pending ? reader.GetFieldValue<DateTimeOffset>(8) : null,
                reader.IsDBNull(9) ? null : reader.GetInt32(9), reader.IsDBNull(10) ? null : reader.GetString(10),
                reader.GetFieldValue<DateTimeOffset>(11), reader.GetFieldValue<DateTimeOffset>(12),
                reader.IsDBNull(13) ? null : reader.GetFieldValue<DateTimeOffset>(13)));
        }

        return views;
    }
}

/// <summary>One delivery as its user sees it (GET /api/v1/notifications).</summary>
/// <param name="Id">The delivery's id, which is also its idempotency key.</param>
/// <param name="NextAttemptAt">When the next attempt is due (pending only).</param>
public sealed record NotificationView(
    Guid Id, Guid EventId, string Kind, string Channel, string Target, string Status, int Attempts, int MaxAttempts,
    DateTimeOffset? NextAttemptAt, int? LastStatusCode, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? DeliveredAt);
