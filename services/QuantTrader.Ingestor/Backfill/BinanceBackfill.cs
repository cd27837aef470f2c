using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.Ingestor.Backfill;

/// <summary>
/// Binance <c>GET /api/v3/aggTrades?symbol=&amp;fromId=&amp;limit=1000</c>: aggregate trades from an id upwards, oldest
/// first; the same id space as the <c>aggTrade</c> stream, and each row says how many trades it stands for (l − f + 1).
/// </summary>
public sealed class BinanceBackfill(HttpClient http, IOptions<MarketDataOptions> options) : ITradeBackfill
{
    private const int PageSize = 1000;

    public string Exchange => Exchanges.Binance;

    public async Task<IReadOnlyList<Trade>> FetchAsync(Instrument instrument, long fromId, long? toId, int max, CancellationToken ct)
    {
        var trades = new List<Trade>();
        var next = fromId;
        var baseUrl = options.Value.Binance.RestUrl.TrimEnd('/');
        while ((toId is null || next <= toId) && trades.Count < max)
        {
            var url = string.Create(CultureInfo.InvariantCulture,
                $"{baseUrl}/api/v3/aggTrades?symbol={instrument.ExchangeSymbol}&fromId={next}&limit={PageSize}");
            using var response = await http.GetAsync(url, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"Binance aggTrades answered {(int)response.StatusCode}: {body}");
            }

            using var doc = JsonDocument.Parse(body);
            var page = 0;
            foreach (var row in doc.RootElement.EnumerateArray())
            {
                page++;
                var id = row.GetProperty("a").GetInt64();
                var count = row.GetProperty("l").GetInt64() - row.GetProperty("f").GetInt64() + 1;
                trades.Add(new Trade(
                    Exchanges.Binance,
                    instrument.Symbol,
                    id,
                    decimal.Parse(row.GetProperty("p").GetString()!, NumberStyles.Number, CultureInfo.InvariantCulture),
                    decimal.Parse(row.GetProperty("q").GetString()!, NumberStyles.Number, CultureInfo.InvariantCulture),
                    row.GetProperty("m").GetBoolean() ? TakerSide.Sell : TakerSide.Buy,
                    DateTimeOffset.FromUnixTimeMilliseconds(row.GetProperty("T").GetInt64()),
                    (int)count));
                next = Math.Max(next, id + 1);
            }

            if (page == 0)
            {
                break; // the exchange has nothing from here on
            }
        }

        return trades;
    }
}
