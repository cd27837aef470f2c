using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using NATS.Net;
using Npgsql;
using QuantTrader.Contracts.Accounts;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// What the alert replica tests look at: who owns which partition (the lease bucket), markets in a given owner's
/// partitions, and exact counts of what fired — rows in <c>alert_firings</c>, messages on ALERTS, webhook receipts.
/// </summary>
internal static class AlertReplicas
{
    private const string Service = "alert";

    /// <summary>
    /// Waits until the two replicas have split the partitions as rendezvous hashing says (no hand-over still under
    /// way) and both report every partition they own as evaluating; returns the partitions of each.
    /// </summary>
    public static async Task<(IReadOnlySet<int> Extra, IReadOnlySet<int> Original)> SettledSplitAsync(SystemFixture system, ExtraReplica extra)
    {
        await using var bus = await MarketBus.ConnectAsync(system);
        var kv = await bus.Js.CreateKeyValueStoreContext().GetStoreAsync(PartitionLeases.BucketFor(Service));
        var originalPid = await ResourceControl.ServiceProcessIdAsync(system, Service);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        (IReadOnlySet<int>, IReadOnlySet<int>)? split = null;
        await Eventually.SucceedsAsync(async () =>
        {
            var members = new List<string>();
            await foreach (var key in kv.GetKeysAsync(["member.*"]))
            {
                members.Add(key["member.".Length..]);
            }

            Assert.Equal(2, members.Count);
            var owners = new Dictionary<int, string>();
            foreach (var p in Partitions.All)
            {
                var entry = await kv.TryGetEntryAsync<string>($"lease.{p}");
                Assert.True(entry.Success, $"partition {p} has no owner yet");
                owners[p] = entry.Value.Value!;
                Assert.Equal(PartitionAssignment.OwnerOf(p, members), owners[p]);
            }

            var extraSet = owners.Where(o => PartitionOwners.IsProcess(o.Value, extra.ProcessId)).Select(o => o.Key).ToHashSet();
            var originalSet = owners.Where(o => PartitionOwners.IsProcess(o.Value, originalPid)).Select(o => o.Key).ToHashSet();
            Assert.NotEmpty(extraSet);
            Assert.NotEmpty(originalSet);
            Assert.Equal(Partitions.Count, extraSet.Count + originalSet.Count);
            foreach (var endpoint in new[] { extra.Endpoint, system.ServiceEndpoint(Service) })
            {
                using var health = await http.GetAsync(new Uri(endpoint, "/health"));
                Assert.True(health.IsSuccessStatusCode, $"{endpoint} is not healthy yet");
            }

            split = (extraSet, originalSet);
        }, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(500));
        return split!.Value;
    }

    /// <summary>A market nobody else uses whose partition is one of <paramref name="partitions"/>.</summary>
    public static string SymbolIn(IReadOnlySet<int> partitions)
    {
        while (true)
        {
            var symbol = MarketBus.NewSymbol();
            if (partitions.Contains(Partitions.OfMarket("binance", symbol)))
            {
                return symbol;
            }
        }
    }

    /// <summary>
    /// A client of one replica's API directly, not through the gateway (which routes to the replica Aspire started):
    /// signs the caller's identity as the gateway does, with the key every replica has in its environment.
    /// </summary>
    public static async Task<HttpClient> DirectClientAsync(ExtraReplica replica, Guid userId, HttpClient throughGateway)
    {
        var me = await throughGateway.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me");
        var limits = me.GetProperty("limits").Deserialize<PlanLimits>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        var key = File.ReadAllText($"/proc/{replica.ProcessId}/environ").Split('\0')
            .Single(e => e.StartsWith("QuantTrader__Identity__SigningKey=", StringComparison.Ordinal)).Split('=', 2)[1];
        return new HttpClient(new SigningHandler(new IdentityToken(key), new Caller(userId, me.GetProperty("plan").GetString()!, limits)))
        {
            BaseAddress = replica.Endpoint,
        };
    }

    /// <summary>Per rule: (rows in alert_firings, messages on ALERTS) of one user.</summary>
    public static async Task<Dictionary<Guid, (int Stored, int Published)>> FiringsOfAsync(SystemFixture system, Guid userId)
    {
        var counts = new Dictionary<Guid, (int Stored, int Published)>();
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using (var query = db.CreateCommand("SELECT alert_id, count(*) FROM alert_firings WHERE user_id = $1 GROUP BY alert_id"))
        {
            query.Parameters.Add(new() { Value = userId });
            await using var reader = await query.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                counts[reader.GetGuid(0)] = ((int)reader.GetInt64(1), 0);
            }
        }

        await using var bus = await MarketBus.ConnectAsync(system);
        // A consumer of the user's subject only (one filter subject: what NATS 2.9 honours), read to its end.
        var consumer = await bus.Js.CreateOrUpdateConsumerAsync("ALERTS", new ConsumerConfig($"test-alerts-{Guid.NewGuid():N}")
        {
            FilterSubject = Subjects.AlertsFired(userId),
            DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            AckPolicy = ConsumerConfigAckPolicy.None,
            InactiveThreshold = TimeSpan.FromSeconds(30),
        });
        await foreach (var message in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 10_000 }))
        {
            var alertId = JsonDocument.Parse(message.Data!).RootElement.GetProperty("alertId").GetGuid();
            var (stored, published) = counts.GetValueOrDefault(alertId);
            counts[alertId] = (stored, published + 1);
        }

        await bus.Js.DeleteConsumerAsync("ALERTS", consumer.Info.Name);
        return counts;
    }

    private sealed class SigningHandler(IdentityToken tokens, Caller caller) : DelegatingHandler(new HttpClientHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Add(IdentityToken.HeaderName, tokens.Issue(caller));
            return base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>
/// A webhook endpoint that answers 200 at once and counts effects per event id, acting once per idempotency key as
/// docs/notifications.md tells receivers to: delivery is at least once, so a request repeated after a crash (same key,
/// same event) is recognised and dropped — and counted in <see cref="Repeats"/>, after checking it is the same event.
/// </summary>
internal sealed class EventReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<Guid, Guid> _eventOfKey = new();
    private int _repeats;

    private EventReceiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    /// <summary>Effects per event id.</summary>
    public ConcurrentDictionary<Guid, int> Deliveries { get; } = new();

    /// <summary>Per alert: the event ids acted on for it.</summary>
    public ConcurrentDictionary<Guid, ConcurrentBag<Guid>> ByAlert { get; } = new();

    /// <summary>Requests whose idempotency key had been acted on (dropped).</summary>
    public int Repeats => Volatile.Read(ref _repeats);

    /// <summary>A repeated key that came with another event (must never happen).</summary>
    public List<string> Mismatches { get; } = [];

    public static async Task<EventReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new EventReceiver(app);
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            var body = await JsonDocument.ParseAsync(request.Body);
            var eventId = Guid.Parse(request.Headers["X-QuantTrader-Event-Id"].ToString());
            var key = Guid.Parse(request.Headers["Idempotency-Key"].ToString());
            if (!receiver._eventOfKey.TryAdd(key, eventId))
            {
                Interlocked.Increment(ref receiver._repeats);
                if (receiver._eventOfKey[key] != eventId)
                {
                    lock (receiver.Mismatches)
                    {
                        receiver.Mismatches.Add($"key {key}: event {receiver._eventOfKey[key]}, then {eventId}");
                    }
                }

                return Results.Ok();
            }

            receiver.Deliveries.AddOrUpdate(eventId, 1, (_, n) => n + 1);
            receiver.ByAlert.GetOrAdd(body.RootElement.GetProperty("alertId").GetGuid(), _ => []).Add(eventId);
            return Results.Ok();
        });
        await app.StartAsync();
        receiver.Url = app.Urls.First().TrimEnd('/') + "/hook";
        return receiver;
    }

    public int DeliveredFor(Guid alertId) => ByAlert.TryGetValue(alertId, out var events) ? events.Count : 0;

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
