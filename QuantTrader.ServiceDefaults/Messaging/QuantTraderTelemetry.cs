using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace QuantTrader.ServiceDefaults.Messaging;

/// <summary>The one ActivitySource and Meter name every QuantTrader component reports under.</summary>
public static class QuantTraderTelemetry
{
    public const string ActivitySourceName = "QuantTrader";
    public const string MeterName = "QuantTrader";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);
    public static readonly Meter Meter = new(MeterName);
}
