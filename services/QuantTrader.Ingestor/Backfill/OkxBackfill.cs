using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.Ingestor.Backfill;

/// <summary>
/// OKX <c>GET /api/v5/market/history-trades?instId=&amp;type=1&amp;after=&amp;limit=100</c>: single trades older than
/// <c>after</c>, newest first; paged downwards from just above the gap (or from the newest trade, for a catch-up) until
/// it is covered.
/// </summary>
public sealed class OkxBackfill(HttpClient http, IOptions<MarketDataOptions> options) : ITradeBackfill
{
    private const int PageSize = 100;

    public string Exchange => Exchanges.Okx;

    public async Task<IReadOnlyList<Trade>> FetchAsync(Instrument instrument, long fromId, long? toId, int max, CancellationToken ct)
    {
        var trades = new List<Trade>();
        long? after = toId + 1;
        var baseUrl = options.Value.Okx.RestUrl.TrimEnd('/');
        while ((after is null || after > fromId) && trades.Count < max)
        {
            var page = after is { } below ? string.Create(CultureInfo.InvariantCulture, $"&after={below}") : "";
            var url = $"{baseUrl}/api/v5/market/history-trades?instId={instrument.ExchangeSymbol}&type=1{page}&limit={PageSize}";
            using var response = await http.GetAsync(url, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            using var doc = JsonDocument.Parse(body);
            var code = doc.RootElement.TryGetProperty("code", out var c) ? c.GetString() : null;
            if (!response.IsSuccessStatusCode || code != "0")
            {
                throw new HttpRequestException($"OKX history-trades answered {(int)response.StatusCode} code {code}: {body}");
            }

            var top = after ?? long.MaxValue;
            var lowest = top;
            foreach (var row in doc.RootElement.GetProperty("data").EnumerateArray())
            {
                var id = long.Parse(row.GetProperty("tradeId").GetString()!, CultureInfo.InvariantCulture);
                lowest = Math.Min(lowest, id);
                trades.Add(new Trade(
                    Exchanges.Okx,
                    instrument.Symbol,
                    id,
                    decimal.Parse(row.GetProperty("px").GetString()!, NumberStyles.Number, CultureInfo.InvariantCulture),
                    decimal.Parse(row.GetProperty("sz").GetString()!, NumberStyles.Number, CultureInfo.InvariantCulture),
                    row.GetProperty("side").GetString() == "sell" ? TakerSide.Sell : TakerSide.Buy,
                    DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(row.GetProperty("ts").GetString()!, CultureInfo.InvariantCulture))));
            }

            if (lowest == top)
            {
                break; // empty page: nothing older is kept
            }

            after = lowest;
        }

        return trades;
    }
}
