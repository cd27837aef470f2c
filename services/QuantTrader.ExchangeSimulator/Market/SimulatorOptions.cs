namespace QuantTrader.ExchangeSimulator.Market;

/// <summary>Configuration section <c>Simulator</c>. Defaults follow the real exchanges (PLATFORM.md).</summary>
public sealed class SimulatorOptions
{
    /// <summary>Normalized symbols (<c>BTCUSDT</c>) offered on both exchanges.</summary>
    public List<string> Symbols { get; set; } = [];

    /// <summary>Synthetic prints per second per symbol and exchange; kept modest so a shared test system stays light.</summary>
    public double TradesPerSecond { get; set; } = 5;

    /// <summary>Seed of the random walk; null: a new walk every start.</summary>
    public int? Seed { get; set; }

    public BinanceOptions Binance { get; set; } = new();

    public OkxOptions Okx { get; set; } = new();

    public sealed class BinanceOptions
    {
        /// <summary>The server pings every 20 s and expects a pong echoing the payload.</summary>
        public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(20);

        /// <summary>No pong within this time: the connection is dropped.</summary>
        public TimeSpan PongTimeout { get; set; } = TimeSpan.FromMinutes(1);

        /// <summary>Binance cuts every connection after 24 h.</summary>
        public TimeSpan ConnectionLifetime { get; set; } = TimeSpan.FromHours(24);

        /// <summary>Incoming messages (subscribe, list, pong frames the app sees) per second before a disconnect.</summary>
        public int MaxIncomingPerSecond { get; set; } = 5;
    }

    public sealed class OkxOptions
    {
        /// <summary>OKX drops a connection that sent nothing for 30 s.</summary>
        public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Time between notice 64008 and the upgrade disconnect (60 s at OKX).</summary>
        public TimeSpan NoticeGrace { get; set; } = TimeSpan.FromMinutes(1);
    }
}
