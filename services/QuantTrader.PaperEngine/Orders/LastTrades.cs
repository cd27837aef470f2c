using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.PaperEngine.Orders;

/// <summary>
/// The newest trade of a market as MARKET_RAW holds it right now: the last message on its subject, and of a batch the
/// last (newest) trade. An order is priced against it and only fills on prints after it, even when the engine's trade
/// feed is behind: it never fills on a trade older than itself, including the earlier prints of that batch.
/// </summary>
public sealed class LastTrades(INatsJSContext js, ILogger<LastTrades> logger)
{
    // The stream handle, looked up once: a message get only needs the stream's name, and asking the server for the
    // stream's info on every order was one more round trip in each order's latency. Forgotten on any error.
    private INatsJSStream? _stream;

    public async Task<Trade?> GetAsync(string exchange, string symbol, CancellationToken ct)
    {
        try
        {
            var stream = _stream ??= await js.GetStreamAsync(Streams.MarketRaw().Name!, cancellationToken: ct);
            var response = await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = Subjects.MarketRaw(exchange, symbol) }, ct);
            if (response.Message?.Data is not { Length: > 0 } data)
            {
                return null;
            }

            // One trade, or a batch in trade-id order whose last trade is the newest print.
            var trades = TradeMessages.Decode(data.Span);
            return trades.Length > 0 ? trades[^1] : null;
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            _stream = null;
            return null; // no trade of this market yet (or no stream yet)
        }
        catch (Exception ex) when (ex is NATS.Client.Core.NatsException or JsonException)
        {
            _stream = null;
            // Without it the book's own last trade is used; the feed being a little behind is the only cost.
            logger.LogWarning(ex, "Could not read the last trade of {Exchange}:{Symbol} from MARKET_RAW", exchange, symbol);
            return null;
        }
    }
}
