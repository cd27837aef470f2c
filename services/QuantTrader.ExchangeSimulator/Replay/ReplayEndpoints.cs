using Microsoft.Extensions.Options;
using QuantTrader.ExchangeSimulator.Market;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.ExchangeSimulator.Replay;

/// <summary><c>POST /control/replay</c> by file name (JSON).</summary>
public sealed record ReplayRequest(string Exchange, string? File, string? Format, string? Symbol, double? Speed);

/// <summary>
/// The replay part of the control API. A file is named (<c>application/json</c>: <c>{exchange, file, format?, symbol?,
/// speed?}</c>, looked up in <c>Simulator:Replay:Directory</c>) or uploaded as the body of any other content type with
/// the same fields in the query string (<c>curl --data-binary @capture.txt '…/control/replay?exchange=binance&amp;speed=10'</c>).
/// Answers 202 with the job (markets and id ranges it will print); <c>GET /control/replay/{id}</c> follows it.
/// </summary>
public static class ReplayEndpoints
{
    public static WebApplication MapReplay(this WebApplication app)
    {
        var replay = app.MapGroup("/control/replay").WithTags("Simulator control");
        replay.MapPost("", StartAsync);
        replay.MapGet("", (ReplayPlayer player) => Results.Ok(player.Jobs.Select(View)));
        replay.MapGet("/{id:guid}", (ReplayPlayer player, Guid id) =>
            player.Find(id) is { } job ? Results.Ok(View(job)) : ProblemResults.NotFound($"Replay {id}"));
        replay.MapDelete("/{id:guid}", (ReplayPlayer player, Guid id) =>
            player.Stop(id) ? Results.NoContent() : ProblemResults.NotFound($"Replay {id}"));
        return app;
    }

    private static async Task<IResult> StartAsync(HttpContext context, ReplayPlayer player)
    {
        try
        {
            ReplayJob job;
            if (context.Request.HasJsonContentType())
            {
                var request = await context.Request.ReadFromJsonAsync<ReplayRequest>(context.RequestAborted);
                if (request?.File is not { Length: > 0 } file)
                {
                    return ProblemResults.Validation("file", "Name a file in the replay directory, or upload it as the request body (not JSON).");
                }

                job = player.Start(request.Exchange ?? "", player.ResolveFile(file), file, request.Format, request.Symbol, request.Speed, deleteWhenDone: false);
            }
            else
            {
                var query = context.Request.Query;
                double? speed = double.TryParse(query["speed"], System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : null;
                if (query["speed"].Count > 0 && speed is null)
                {
                    return ProblemResults.Validation("speed", "A number: a multiple of real time, or 0 for as fast as possible.");
                }

                // Streamed to a temporary file, never buffered whole: a public-data CSV can have millions of rows.
                var path = Path.Combine(Path.GetTempPath(), $"simulator-replay-{Guid.NewGuid():N}");
                await using (var file = File.Create(path))
                {
                    await context.Request.Body.CopyToAsync(file, context.RequestAborted);
                }

                try
                {
                    job = player.Start(query["exchange"].ToString(), path, "upload", query["format"], query["symbol"], speed, deleteWhenDone: true);
                }
                catch
                {
                    File.Delete(path);
                    throw;
                }
            }

            return Results.Accepted($"/control/replay/{job.Id}", View(job));
        }
        catch (ReplayRefusedException ex)
        {
            return ex.Status switch
            {
                404 => ProblemResults.Problem(404, "not-found", "Not found.", ex.Message, new Dictionary<string, object?> { ["field"] = ex.Field }),
                409 => ProblemResults.Conflict("replay-conflict", ex.Message),
                _ => ProblemResults.Validation(ex.Field, ex.Message),
            };
        }
    }

    private static object View(ReplayJob job) => new
    {
        job.Id, job.Exchange, job.Source, job.Format, job.Speed, job.Status, job.Frames, job.FramesSent, job.PrintsMade,
        job.Markets, job.OtherSymbols, job.StartedAt, job.FinishedAt, job.Error,
    };
}

/// <summary>Runs the replays of <c>Simulator:Replay:OnStart</c> once the simulator is up.</summary>
public sealed class StartupReplays(ReplayPlayer player, IOptions<SimulatorOptions> options, ILogger<StartupReplays> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var replay in options.Value.Replay.OnStart)
        {
            await Task.Delay(replay.Delay, stoppingToken);
            try
            {
                player.Start(replay.Exchange, player.ResolveFile(replay.File), replay.File, replay.Format, replay.Symbol, replay.Speed, deleteWhenDone: false);
            }
            catch (ReplayRefusedException ex)
            {
                // A configured replay that cannot run is an operator's mistake to see, not a reason to stop the simulator.
                logger.LogError("Configured replay of {File} on {Exchange} refused: {Reason}", replay.File, replay.Exchange, ex.Message);
            }
        }
    }
}
