using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.Benchmarks.Contracts;

/// <summary>
/// Contract serialization of the two busiest bus messages, <see cref="Trade"/> and <see cref="Kline"/>, to and from
/// UTF-8 JSON with the source-generated <see cref="ContractsJsonContext.Wire"/>. Baseline per category: the
/// reflection-based <see cref="JsonSerializer"/> with equivalent options (web defaults, null-skipping, snake_case
/// enums, UTC times) — setup checks that both produce the same bytes. No issue sets a number; our goals: source
/// generation not slower than reflection (ratio ≤ 1), and ≥ 1 M Trade messages/s in each direction, so that
/// serialization stays under 5 % of a core at the 50 000 trades/s end-to-end goal of issue 10.
/// </summary>
[MemoryDiagnoser]
[NoisyMachineJob]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ContractSerializationBenchmarks
{
    private readonly Trade _trade = new("binance", "BTCUSDT", 665_076_760, 58_001.03m, 0.086205m, TakerSide.Sell,
        DateTimeOffset.FromUnixTimeMilliseconds(1_617_566_591_314), Count: 1);

    private readonly Kline _kline = new("binance", "BTCUSDT", "1m",
        DateTimeOffset.FromUnixTimeMilliseconds(1_617_566_580_000), DateTimeOffset.FromUnixTimeMilliseconds(1_617_566_639_999),
        58_001.03m, 58_040.00m, 57_990.12m, 58_020.55m, 41.23456m, 2_391_654.4412345m, 1_254, 20.1m, 1_165_823.72m, Closed: true);

    private Trade[] _trades1 = [];
    private JsonSerializerOptions _reflection = null!;
    private byte[] _tradeJson = [];
    private byte[] _klineJson = [];

    [GlobalSetup]
    public void Setup()
    {
        _reflection = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        ContractsJsonContext.Configure(_reflection);

        _tradeJson = JsonSerializer.SerializeToUtf8Bytes(_trade, ContractsJsonContext.Wire.Trade);
        _klineJson = JsonSerializer.SerializeToUtf8Bytes(_kline, ContractsJsonContext.Wire.Kline);
        // Equivalent options or the comparison is meaningless.
        if (!_tradeJson.AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(_trade, _reflection))
            || !_klineJson.AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(_kline, _reflection)))
        {
            throw new InvalidOperationException("Source-generated and reflection JSON differ; the baseline is not equivalent.");
        }

        _trades1 = [_trade];
        if (!TradeMessages.Encode(_trades1).AsSpan().SequenceEqual(_tradeJson) || TradeMessages.Decode(_tradeJson)[0] != _trade)
        {
            throw new InvalidOperationException("TradeMessages' hand-written JSON differs from the wire contract's.");
        }

        if (JsonSerializer.Deserialize(_tradeJson, ContractsJsonContext.Wire.Trade) != _trade
            || JsonSerializer.Deserialize(_klineJson, ContractsJsonContext.Wire.Kline) != _kline)
        {
            throw new InvalidOperationException("The wire JSON does not round-trip.");
        }
    }

    [BenchmarkCategory("Trade to JSON"), Benchmark(Baseline = true, Description = "Baseline: reflection")]
    public byte[] TradeToJsonReflection() => JsonSerializer.SerializeToUtf8Bytes(_trade, _reflection);

    [BenchmarkCategory("Trade to JSON"), Benchmark(Description = "Wire (source-generated)")]
    public byte[] TradeToJsonWire() => JsonSerializer.SerializeToUtf8Bytes(_trade, ContractsJsonContext.Wire.Trade);

    [BenchmarkCategory("Trade to JSON"), Benchmark(Description = "TradeMessages (hand-written writer)")]
    public byte[] TradeToJsonMessage() => TradeMessages.Encode(_trades1);

    [BenchmarkCategory("Trade from JSON"), Benchmark(Baseline = true, Description = "Baseline: reflection")]
    public Trade? TradeFromJsonReflection() => JsonSerializer.Deserialize<Trade>(_tradeJson, _reflection);

    [BenchmarkCategory("Trade from JSON"), Benchmark(Description = "Wire (source-generated)")]
    public Trade? TradeFromJsonWire() => JsonSerializer.Deserialize(_tradeJson, ContractsJsonContext.Wire.Trade);

    [BenchmarkCategory("Trade from JSON"), Benchmark(Description = "TradeMessages (hand-written reader)")]
    public Trade TradeFromJsonMessage() => TradeMessages.Decode(_tradeJson)[0];

    [BenchmarkCategory("Kline to JSON"), Benchmark(Baseline = true, Description = "Baseline: reflection")]
    public byte[] KlineToJsonReflection() => JsonSerializer.SerializeToUtf8Bytes(_kline, _reflection);

    [BenchmarkCategory("Kline to JSON"), Benchmark(Description = "Wire (source-generated)")]
    public byte[] KlineToJsonWire() => JsonSerializer.SerializeToUtf8Bytes(_kline, ContractsJsonContext.Wire.Kline);

    [BenchmarkCategory("Kline from JSON"), Benchmark(Baseline = true, Description = "Baseline: reflection")]
    public Kline? KlineFromJsonReflection() => JsonSerializer.Deserialize<Kline>(_klineJson, _reflection);

    [BenchmarkCategory("Kline from JSON"), Benchmark(Description = "Wire (source-generated)")]
    public Kline? KlineFromJsonWire() => JsonSerializer.Deserialize(_klineJson, ContractsJsonContext.Wire.Kline);
}
