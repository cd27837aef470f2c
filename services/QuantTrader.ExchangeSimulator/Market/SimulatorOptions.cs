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

    /// <summary>
    /// Where the markets' next ids and prices are kept across restarts (<see cref="SimState"/>); empty: every start is a
    /// fresh market. The AppHost puts it in the data folder.
    /// </summary>
    public string? StateFile { get; set; }

    public BinanceOptions Binance { get; set; } = new();

    public OkxOptions Okx { get; set; } = new();

    public ReplayOptions Replay { get; set; } = new();

    /// <summary>Section <c>Simulator:Replay</c>: where named replay files are found, and replays to run at start-up.</summary>
    public sealed class ReplayOptions
    {
        /// <summary>Folder of replay files <c>POST /control/replay {file}</c> may name; empty: only uploads.</summary>
        public string? Directory { get; set; }

        /// <summary>Default speed: a multiple of real time (1 = as recorded); 0 = as fast as the sessions take it.</summary>
        public double Speed { get; set; } = 1;

        /// <summary>Replays started once the simulator runs (files in <see cref="Directory"/>), e.g. for a demo on real data.</summary>
        public List<ReplayOnStart> OnStart { get; set; } = [];
    }

    public sealed class ReplayOnStart
    {
        public string Exchange { get; set; } = "";

        public string File { get; set; } = "";

        public string? Format { get; set; }

        public string? Symbol { get; set; }

        public double? Speed { get; set; }

        /// <summary>Wait this long after start-up (so the ingestor is connected and subscribed first).</summary>
        public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(10);
    }

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
