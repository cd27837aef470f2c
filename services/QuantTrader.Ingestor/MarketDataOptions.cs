namespace QuantTrader.Ingestor;

/// <summary>
/// Configuration section <c>MarketData</c>. The defaults are the real exchanges; the AppHost points the URLs at the
/// exchange simulator unless <c>QuantTrader:MarketData:Source=live</c>.
/// </summary>
public sealed class MarketDataOptions
{
    /// <summary><c>simulator</c> or <c>live</c>: informational (logged), the URLs decide where we connect.</summary>
    public string Source { get; set; } = "live";

    /// <summary>Normalized symbols (<c>BTCUSDT</c>) ingested from every enabled exchange.</summary>
    public List<string> Symbols { get; set; } = [];

    public BinanceOptions Binance { get; set; } = new();

    public OkxOptions Okx { get; set; } = new();

    /// <summary>
    /// At most this many trades of one market go into one JetStream message (<c>TradeMessages</c>): trades that are
    /// waiting to be published together share a message, so a quiet feed still sends one trade per message and a busy
    /// one pays JetStream's per-message cost once per batch. 1 restores one message per trade.
    /// </summary>
    public int MaxTradesPerMessage { get; set; } = QuantTrader.Contracts.MarketData.TradeMessages.MaxPerMessage;

    /// <summary>At most this many trades are fetched to fill one gap; the rest is reported as an unfilled gap.</summary>
    public int MaxBackfillTrades { get; set; } = 100_000;

    public abstract class ExchangeOptions
    {
        public bool Enabled { get; set; } = true;

        public string StreamUrl { get; set; } = "";

        public string RestUrl { get; set; } = "";

        /// <summary>Nothing received for this long: the watchdog reconnects.</summary>
        public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>Open a new connection and retire the old one after this age (null: never).</summary>
        public TimeSpan? RotateAfter { get; set; }

        /// <summary>Outgoing messages per second per connection.</summary>
        public int MaxMessagesPerSecond { get; set; } = 5;
    }

    public sealed class BinanceOptions : ExchangeOptions
    {
        public BinanceOptions()
        {
            StreamUrl = "wss://stream.binance.com:9443/stream";
            RestUrl = "https://api.binance.com";
            // Binance cuts at 24 h; switching half an hour early leaves room for retries.
            RotateAfter = TimeSpan.FromHours(23.5);
            // One below the exchange's 5/s: pongs the WebSocket layer sends count too.
            MaxMessagesPerSecond = 4;
        }

        /// <summary><c>aggTrade</c> (ids match REST <c>/api/v3/aggTrades</c> backfill) or <c>trade</c>.</summary>
        public string Stream { get; set; } = "aggTrade";

        public int MaxStreamsPerConnection { get; set; } = 1024;
    }

    public sealed class OkxOptions : ExchangeOptions
    {
        public OkxOptions()
        {
            StreamUrl = "wss://ws.okx.com:8443/ws/v5/public";
            RestUrl = "https://www.okx.com";
            StaleAfter = TimeSpan.FromSeconds(30);
            MaxMessagesPerSecond = 3;
        }

        /// <summary>Send the text <c>ping</c> after this much silence; OKX drops a connection idle for 30 s.</summary>
        public TimeSpan PingAfterIdle { get; set; } = TimeSpan.FromSeconds(20);
    }
}
