using System.Text.Json;
using System.Text.Json.Serialization;
using QuantTrader.Contracts.Alerts;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.Contracts.Messaging;

/// <summary>
/// Source-generated JSON for every event on the bus: no reflection on the hot path, and one agreed wire shape
/// (camelCase, enums as snake_case strings, decimals as JSON numbers).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Trade))]
[JsonSerializable(typeof(Trade[]))]
[JsonSerializable(typeof(Kline))]
[JsonSerializable(typeof(MarketGap))]
[JsonSerializable(typeof(OrderEvent))]
[JsonSerializable(typeof(FillEvent))]
[JsonSerializable(typeof(RiskCheckRequest))]
[JsonSerializable(typeof(RiskCheckReply))]
[JsonSerializable(typeof(AlertFired))]
[JsonSerializable(typeof(SubmitOrderRequest))]
[JsonSerializable(typeof(SubmitOrderReply))]
[JsonSerializable(typeof(CancelOrderRequest))]
public sealed partial class ContractsJsonContext : JsonSerializerContext
{
    /// <summary>Options with the snake_case enum converter the API uses (<c>stop_market</c>, <c>partially_filled</c>).</summary>
    public static JsonSerializerOptions WireOptions { get; } = CreateWireOptions();

    public static ContractsJsonContext Wire { get; } = new(WireOptions);

    /// <summary>
    /// The API's conventions on any options (HTTP JSON options use this): enums as snake_case strings,
    /// times as ISO-8601 UTC with a <c>Z</c>.
    /// </summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.Converters.Add(new UtcTimeConverter());
    }

    private static JsonSerializerOptions CreateWireOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        Configure(options);
        return options;
    }
}
