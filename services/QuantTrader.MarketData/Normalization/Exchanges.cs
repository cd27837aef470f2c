namespace QuantTrader.MarketData.Normalization;

/// <summary>Exchange ids as they appear on the bus (<c>market.raw.{exchange}.{SYMBOL}</c>): lower case.</summary>
public static class Exchanges
{
    public const string Binance = "binance";
    public const string Okx = "okx";
}
