using QuantTrader.Ingestor.Markets;

namespace QuantTrader.Ingestor.Connectors;

/// <summary>One connection's share of a connector's markets: where to connect and which markets it carries.</summary>
public sealed record FeedShard(Uri Uri, IReadOnlyList<Market> Markets);
