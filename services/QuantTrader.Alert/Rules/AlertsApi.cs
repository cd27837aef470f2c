using QuantTrader.ServiceDefaults.Queries;
using Microsoft.Extensions.Options;
using QuantTrader.Alert.Channels;
using QuantTrader.Alert.Partitioning;
using QuantTrader.Alert.Webhooks;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Alert.Rules;

/// <summary>The caller's alert rules and fired events (API.md § Alerts, docs/alerts.md).</summary>
public static class AlertsApi
{
    public const int DefaultEventLimit = 100;
    public const int MaxEventLimit = 1000;

    public static WebApplication MapAlertsApi(this WebApplication app)
    {
        var alerts = app.MapGroup("/api/v1/alerts").WithTags("Alerts").RequireCaller();
        alerts.MapPost("", CreateAsync).WithSummary("Create an alert rule; the webhook signing secret is returned with it.");
        alerts.MapGet("", ListAsync).WithSummary("The caller's alert rules.");
        alerts.MapDelete("/{id:guid}", DeleteAsync).WithSummary("Delete one of the caller's rules.");
        alerts.MapGet("/events", EventsAsync).WithSummary("Fired alerts, ascending by time.");
        return app;
    }

    private static async Task<IResult> CreateAsync(
        CreateAlertRequest request, HttpContext http, RuleStore store, ChannelStore channels, RuleAnnouncements announcements, IOptions<WebhookOptions> webhookOptions,
        CancellationToken ct)
    {
        var caller = http.GetCaller();
        var exchange = request.Exchange?.ToLowerInvariant();
        if (exchange is null || !RuleValidation.Exchanges.Contains(exchange))
        {
            return ProblemResults.Validation("exchange", "exchange must be binance or okx.");
        }

        var symbol = request.Symbol?.ToUpperInvariant();
        if (symbol is null || !RuleValidation.SymbolPattern().IsMatch(symbol))
        {
            return ProblemResults.Validation("symbol", "symbol must be a normalized symbol such as BTCUSDT.");
        }

        if (RuleValidation.Condition(request.Condition, out var condition) is { } error)
        {
            return ProblemResults.Validation(error.Field, error.Detail);
        }

        var repeat = request.Repeat ?? "once";
        if (repeat is not ("once" or "every"))
        {
            return ProblemResults.Validation("repeat", "repeat must be once or every.");
        }

        var cooldown = request.CooldownSeconds ?? 0;
        if (cooldown < 0 || cooldown > RuleValidation.MaxCooldownSeconds)
        {
            return ProblemResults.Validation("cooldownSeconds", $"cooldownSeconds must be between 0 and {RuleValidation.MaxCooldownSeconds}.");
        }

        if (request.WebhookUrl is { } url && await WebhookAddressPolicy.CheckAsync(url, webhookOptions.Value.AllowPrivateNetworks, ct) is { } refused)
        {
            return ProblemResults.Validation("webhookUrl", refused);
        }

        var channelIds = (request.Channels ?? []).Distinct().ToArray();
        if (channelIds.Length > RuleValidation.MaxChannels)
        {
            return ProblemResults.Validation("channels", $"A rule can name at most {RuleValidation.MaxChannels} channels.");
        }

        // Only the caller's own channels: another user's id is refused as if it did not exist.
        var types = channelIds.Length == 0 ? new Dictionary<Guid, string>() : await channels.TypesAsync(caller.UserId, channelIds, ct);
        if (channelIds.FirstOrDefault(id => !types.ContainsKey(id)) is var unknown && unknown != Guid.Empty)
        {
            return ProblemResults.Validation("channels", $"No notification channel {unknown} of yours.");
        }

        var rule = new AlertRule
        {
            Id = Guid.CreateVersion7(),
            UserId = caller.UserId,
            Exchange = exchange,
            Symbol = symbol,
            Condition = RuleValidation.ToCondition(condition),
            Repeat = repeat == "every" ? RepeatMode.Every : RepeatMode.Once,
            Cooldown = TimeSpan.FromSeconds(cooldown),
            WebhookUrl = request.WebhookUrl,
            Channels = [.. channelIds.Select(id => new RuleChannel(id, types[id]))],
        };
        if (await store.CreateAsync(rule, condition, caller.Limits.Alerts, ct) == RuleStore.CreateResult.PlanLimit)
        {
            return ProblemResults.PlanLimit("alerts", $"Your {caller.Plan} plan allows {caller.Limits.Alerts} alert rules; delete one or upgrade.");
        }

        // The owner of the rule's market (any replica, this one or another) evaluates it from when it answers.
        await announcements.AnnounceAsync(rule, ct);
        var secret = rule.WebhookUrl is null ? null : await store.SecretAsync(caller.UserId, ct);
        var view = new AlertView(rule.Id, rule.Exchange, rule.Symbol, condition, rule.WebhookUrl, repeat, cooldown, "active", true, null, DateTimeOffset.UtcNow, secret, channelIds);
        return TypedResults.Created($"/api/v1/alerts/{rule.Id}", view);
    }

    private static async Task<IResult> ListAsync(HttpContext http, RuleStore store, CancellationToken ct)
        => TypedResults.Ok(await store.ListAsync(http.GetCaller().UserId, ct));

    private static async Task<IResult> DeleteAsync(Guid id, HttpContext http, RuleStore store, RuleAnnouncements announcements, CancellationToken ct)
    {
        if (await store.DeleteAsync(http.GetCaller().UserId, id, ct) is not { } deleted)
        {
            return ProblemResults.NotFound("The alert");
        }

        await announcements.AnnounceAsync(deleted, ct);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> EventsAsync(HttpContext http, RuleStore store, string? from, string? to, string? limit, CancellationToken ct)
    {
        if (!QueryTime.TryParse(from, out var fromTime))
        {
            return ProblemResults.Validation("from", "'from' must be an ISO-8601 UTC time or epoch milliseconds.");
        }

        if (!QueryTime.TryParse(to, out var toTime))
        {
            return ProblemResults.Validation("to", "'to' must be an ISO-8601 UTC time or epoch milliseconds.");
        }

        var count = DefaultEventLimit;
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, out count) || count < 1))
        {
            return ProblemResults.Validation("limit", "'limit' must be a positive integer.");
        }

        var events = await store.EventsAsync(http.GetCaller().UserId, fromTime, toTime, Math.Min(count, MaxEventLimit), ct);
        return TypedResults.Ok(events.Select(e => new AlertEventView(e.EventId, e.AlertId, e.Exchange, e.Symbol, e.Time, e.Price, e.Value, e.Message)));
    }
}
