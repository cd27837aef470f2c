using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using QuantTrader.Contracts.Accounts;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Ingestor.Imports;

/// <summary>
/// An upload on disk, ready to import, with the claim that keeps other replicas' start-up sweeps off it until it is
/// disposed; or the answer that refused it (the file is then gone).
/// </summary>
public sealed record ReceivedUpload(string? Path, long Bytes, IResult? Refusal, IDisposable? Claim = null);

/// <summary>
/// Streams an upload to a file in <see cref="ImportOptions.TempDirectory"/>, and while it streams: counts its bytes
/// against the user's daily quota (reserving them before they are written, so the upload is cut off at the quota,
/// not after it) and reads its lines, refusing the whole upload at the first row whose time is outside
/// [2009-01-01, now + 1 min] (400 naming the line) or a line longer than <see cref="MaxLineBytes"/>. Whatever ends
/// the upload early — a refusal, the client going away, a failure — removes the file.
/// <para>
/// Replicas on one machine share the folder. An upload is therefore claimed from its first byte until its import
/// ended by an open handle with a shared lock (on Unix .NET takes <c>flock</c> for <see cref="FileShare"/>), and the
/// start-up sweep removes only files it can lock exclusively: those whose process is gone.
/// </para>
/// </summary>
public sealed class ImportUploads(ImportQuota quota, IOptions<ImportOptions> options, TimeProvider time, ILogger<ImportUploads> logger)
{
    /// <summary>The longest CSV line: a Binance row is under 200 bytes; a longer one would only grow the reader's buffer.</summary>
    public const int MaxLineBytes = 64 * 1024;

    public const string QuotaLimit = nameof(PlanLimits.ImportBytesPerDay);

    public string Directory => options.Value.TempDirectory;

    public async Task<ReceivedUpload> ReceiveAsync(
        HttpContext context, Guid userId, PlanLimits limits, string format, string exchange, string symbol, CancellationToken ct)
    {
        var day = quota.Today;
        var limit = limits.ImportBytesPerDay;
        if (context.Request.ContentLength is long declared)
        {
            // A declared length that cannot fit is refused before a byte is read.
            if (declared > limit)
            {
                return Refused(TooLarge(limit));
            }

            var used = await quota.UsedAsync(userId, day, ct);
            if (used + declared > limit)
            {
                return Refused(QuotaUsed(context, limit, used));
            }
        }

        System.IO.Directory.CreateDirectory(Directory);
        var path = Path.Combine(Directory, $"import-{Guid.NewGuid():N}.csv");
        long total = 0, reserved = 0;
        var keep = false;
        FileStream? claim = null;
        try
        {
            var lines = new LineCheck(format, exchange, symbol, time.GetUtcNow());
            // FileShare.Read: a shared lock, like the claim taken below, which must be able to join it.
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 81920, useAsync: true))
            {
                claim = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var buffer = new byte[81920];
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer, ct)) > 0)
                {
                    total += read;
                    if (total > reserved)
                    {
                        var block = Math.Max(ImportQuota.Block, total - reserved);
                        if (await quota.TryReserveAsync(userId, day, block, limit, ct))
                        {
                            reserved += block;
                        }
                        else if (await quota.TryReserveAsync(userId, day, total - reserved, limit, ct))
                        {
                            reserved = total; // the last bytes of the quota: less than a block
                        }
                        else
                        {
                            logger.LogInformation("Import upload of user {UserId} cut off at {Bytes} bytes: daily quota of {Limit} bytes reached", userId, total, limit);
                            return Refused(total > limit ? TooLarge(limit) : QuotaUsed(context, limit, await quota.UsedAsync(userId, day, ct)));
                        }
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                    if (lines.Feed(buffer.AsSpan(0, read)) is { } bad)
                    {
                        return Refused(bad);
                    }
                }
            }

            if (lines.End() is { } last)
            {
                return Refused(last);
            }

            if (total == 0)
            {
                return Refused(ProblemResults.Validation("body", "The request body must be the CSV file; it was empty."));
            }

            keep = true;
            return new ReceivedUpload(path, total, null, claim);
        }
        finally
        {
            if (!keep)
            {
                Delete(path);
                claim?.Dispose();
            }

            if (reserved > total)
            {
                try
                {
                    await quota.ReleaseAsync(userId, day, reserved - total, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    // Only the unused rest of the last block (< 4 MiB) stays counted: the user's loss is bounded, nothing else is.
                    logger.LogWarning(ex, "Could not give back {Bytes} reserved import bytes of user {UserId}", reserved - total, userId);
                }
            }
        }
    }

    /// <summary>Deletes an upload's file; a file already gone is fine, one that cannot be deleted is logged.</summary>
    public void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not delete the import upload {Path}", path);
        }
    }

    /// <summary>
    /// Every file in the folder that no running process claims: uploads of a run that ended, which nobody will import.
    /// Another replica's uploads in progress are claimed, and stay.
    /// </summary>
    public void Sweep()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return;
        }

        var removed = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory))
        {
            try
            {
                using var exclusive = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.None);
            }
            catch (IOException) when (File.Exists(file))
            {
                continue; // claimed: an upload or an import of a live replica
            }
            catch (FileNotFoundException)
            {
                continue;
            }

            Delete(file);
            removed++;
        }

        if (removed > 0)
        {
            logger.LogInformation("Removed {Count} import uploads left by a previous run from {Directory}", removed, Directory);
        }
    }

    private static ReceivedUpload Refused(IResult refusal) => new(null, 0, refusal);

    private static IResult TooLarge(long limit) => ProblemResults.Problem(StatusCodes.Status413PayloadTooLarge, "plan-limit",
        "Your plan's limit is reached.",
        $"The upload is larger than your plan's {QuotaLimit} ({limit} bytes per UTC day).",
        new Dictionary<string, object?> { ["limit"] = QuotaLimit });

    private IResult QuotaUsed(HttpContext context, long limit, long used)
    {
        var retry = quota.UntilRenewal;
        context.Response.Headers.RetryAfter = ((long)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return ProblemResults.Problem(StatusCodes.Status429TooManyRequests, "plan-limit", "Your plan's limit is reached.",
            $"This upload does not fit in what is left of your plan's {QuotaLimit} ({used} of {limit} bytes used today, UTC); it renews at 00:00 UTC.",
            new Dictionary<string, object?> { ["limit"] = QuotaLimit });
    }

    /// <summary>Splits the streamed bytes into lines and checks each row's times (and length) as it completes.</summary>
    private sealed class LineCheck(string format, string exchange, string symbol, DateTimeOffset now)
    {
        private readonly byte[] _line = new byte[MaxLineBytes];
        private int _length;
        private long _number;

        public IResult? Feed(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                var end = data.IndexOf((byte)'\n');
                var part = end < 0 ? data : data[..end];
                if (_length + part.Length > MaxLineBytes)
                {
                    return ProblemResults.Problem(StatusCodes.Status400BadRequest, "validation", "The request is invalid.",
                        $"line {_number + 1}: longer than {MaxLineBytes} bytes; this is not a Binance public-data CSV.",
                        new Dictionary<string, object?> { ["field"] = "body", ["line"] = _number + 1 });
                }

                part.CopyTo(_line.AsSpan(_length));
                _length += part.Length;
                if (end < 0)
                {
                    return null;
                }

                if (Check() is { } bad)
                {
                    return bad;
                }

                data = data[(end + 1)..];
            }

            return null;
        }

        public IResult? End() => _length > 0 ? Check() : null;

        private IResult? Check()
        {
            _number++;
            var bytes = _line.AsSpan(0, _length);
            if (_number == 1 && bytes.StartsWith(Encoding.UTF8.Preamble))
            {
                bytes = bytes[Encoding.UTF8.Preamble.Length..];
            }

            var text = Encoding.UTF8.GetString(bytes);
            _length = 0;
            var line = BinanceCsv.Parse(format, exchange, symbol, text, now);
            return line.TimeOutOfRange
                ? ProblemResults.Problem(StatusCodes.Status400BadRequest, "validation", "The request is invalid.",
                    $"line {_number}: {line.Error}; nothing of this file was imported.",
                    new Dictionary<string, object?> { ["field"] = "body", ["line"] = _number })
                : null;
        }
    }
}
