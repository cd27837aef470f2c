using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Net;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.IntegrationTests;

/// <summary>Strategy modules from strategies/ (copied next to the tests) and helpers to upload, start and feed them.</summary>
internal static class StrategyFiles
{
    public static byte[] Bytes(string relative) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "strategies", relative));

    public const string SmaWasm = "sma-crossover/build/sma-crossover.wasm";
    public const string SmaWat = "wat/sma-crossover.wat";

    /// <summary>fast 2 / slow 3: the fifth of <see cref="CrossingCloses"/> crosses up, so exactly one buy of 0.01.</summary>
    public const string SmaParameters = """{"fast":2,"slow":3,"quantity":0.01}""";

    public static readonly decimal[] CrossingCloses = [10m, 10m, 10m, 9m, 12m];

    public static MultipartFormDataContent Upload(string file, string symbol, string parameters = SmaParameters, string name = "test strategy", string interval = "1m")
    {
        var module = new ByteArrayContent(Bytes(file));
        module.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent
        {
            { module, "module", Path.GetFileName(file) },
            { new StringContent(name), "name" },
            { new StringContent("binance"), "exchange" },
            { new StringContent(symbol), "symbol" },
            { new StringContent(interval), "interval" },
            { new StringContent(parameters), "parameters" },
        };
    }

    /// <summary>A market no simulator or connector publishes, so only this test's klines reach its strategies.</summary>
    public static string UniqueSymbol() => $"T{Guid.NewGuid().ToString("N")[..10].ToUpperInvariant()}USDT";

    public static async Task<Guid> UploadAndStartAsync(HttpClient client, string file, string symbol, string parameters = SmaParameters)
    {
        using var content = Upload(file, symbol, parameters);
        using var created = await client.PostAsync("/api/v1/strategies", content);
        Assert.True(created.IsSuccessStatusCode, $"upload: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        using var started = await client.PostAsync($"/api/v1/strategies/{id}/start", null);
        Assert.True(started.IsSuccessStatusCode, $"start: {(int)started.StatusCode} {await started.Content.ReadAsStringAsync()}");
        Assert.Equal("running", (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        return id;
    }

    public static async Task<JsonElement> GetAsync(HttpClient client, Guid id) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/v1/strategies/{id}");

    public static async Task<string> LogsAsync(HttpClient client, Guid id) =>
        await client.GetStringAsync($"/api/v1/strategies/{id}/logs?limit=1000");
}

/// <summary>
/// Publishes klines to market.kline.* as the kline service does, and answers <c>paper.submit</c> like the paper
/// engine, recording every strategy order it sees. On a branch with the real paper engine both answer; the
/// recorder still sees every request, and the runner handles whichever reply comes first.
/// </summary>
internal sealed class MarketAndEngine : IAsyncDisposable
{
    private readonly NatsConnection _nats;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _responder;
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private MarketAndEngine(NatsConnection nats)
    {
        _nats = nats;
        _responder = Task.Run(RespondAsync);
    }

    public ConcurrentQueue<SubmitOrderRequest> Requests { get; } = new();

    public static async Task<MarketAndEngine> StartAsync(SystemFixture system)
    {
        var nats = new NatsConnection(new NatsOpts { Url = await system.ConnectionStringAsync("nats") });
        await nats.ConnectAsync();
        var harness = new MarketAndEngine(nats);
        await harness._subscribed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return harness;
    }

    public IReadOnlyList<SubmitOrderRequest> RequestsFor(Guid strategyId) => Requests.Where(r => r.StrategyId == strategyId).ToList();

    private async Task RespondAsync()
    {
        try
        {
            await using var subscription = await _nats.SubscribeCoreAsync<byte[]>(Subjects.TradingSubmit, cancellationToken: _stop.Token);
            _subscribed.TrySetResult();
            await foreach (var message in subscription.Msgs.ReadAllAsync(_stop.Token))
            {
                var request = JsonSerializer.Deserialize(message.Data!, ContractsJsonContext.Wire.SubmitOrderRequest)!;
                Requests.Enqueue(request);
                var now = DateTimeOffset.UtcNow;
                var order = new OrderEvent(Guid.NewGuid(), request.UserId, request.ClientOrderId, request.StrategyId, request.Exchange,
                    request.Symbol, request.Side, request.Type, request.TimeInForce, request.Quantity, request.Price, request.StopPrice,
                    OrderStatus.New, 0m, 0m, 0m, null, now, now);
                await message.ReplyAsync(JsonSerializer.SerializeToUtf8Bytes(new SubmitOrderReply(order, null, null, null, null),
                    ContractsJsonContext.Wire.SubmitOrderReply));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            _subscribed.TrySetException(ex);
        }
    }

    /// <summary>Closed one-minute klines with these closes, one minute apart from <paramref name="start"/>, preceded each by an open (in-progress) update that strategies must not see.</summary>
    public async Task PublishClosedKlinesAsync(string symbol, IEnumerable<decimal> closes, DateTimeOffset start)
    {
        var js = _nats.CreateJetStreamContext();
        var i = 0;
        foreach (var close in closes)
        {
            var openTime = start.AddMinutes(i++);
            // An open kline with a wild price first: if it reached the strategy it would change its averages.
            await PublishAsync(js, Kline(symbol, openTime, close * 10m, closed: false));
            await PublishAsync(js, Kline(symbol, openTime, close, closed: true));
        }
    }

    private static Kline Kline(string symbol, DateTimeOffset openTime, decimal close, bool closed) =>
        new("binance", symbol, "1m", openTime, openTime.AddMinutes(1).AddMilliseconds(-1), close, close, close, close, 1m, close, 1, 0.5m, close / 2, closed);

    private static async Task PublishAsync(NATS.Client.JetStream.INatsJSContext js, Kline kline)
    {
        var ack = await js.PublishAsync(Subjects.MarketKline(kline.Exchange, kline.Interval, kline.Symbol),
            JsonSerializer.SerializeToUtf8Bytes(kline, ContractsJsonContext.Wire.Kline));
        Assert.Null(ack.Error);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _responder;
        await _nats.DisposeAsync();
        _stop.Dispose();
    }
}
