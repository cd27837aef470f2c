using Npgsql;
using Polly;
using Polly.Retry;
using QuantTrader.Storage;

namespace QuantTrader.Persistence.Schema;

/// <summary>
/// Persistence is the one owner of the schema. Migrations run before the service starts listening, so
/// "persistence is healthy" means "the schema is current", which is what every other service waits for.
/// </summary>
public sealed class SchemaMigrationService(NpgsqlDataSource dataSource, ILogger<SchemaMigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // PostgreSQL may still be recovering after a crash: retry with backoff rather than fail the start.
        var retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(),
                MaxRetryAttempts = 10,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                OnRetry = args =>
                {
                    logger.LogWarning(args.Outcome.Exception, "Schema migration attempt {Attempt} failed; retrying in {Delay}", args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

        var applied = await retry.ExecuteAsync(async ct => await new SchemaMigrator(dataSource).MigrateAsync(ct), cancellationToken);
        logger.LogInformation("Schema is at version {Version}; applied now: [{Applied}]",
            SchemaMigrator.Migrations[^1].Version, string.Join(", ", applied));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
