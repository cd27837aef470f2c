using System.Net.Http.Headers;
using System.Text.Json;
using QuantTrader.Contracts.Accounts;
using QuantTrader.ServiceDefaults.Identity;

namespace QuantTrader.StrategyRunner.Runner;

/// <summary>
/// The owner's free quote balance for <c>qt.quote_balance</c>, read from the paper engine's
/// <c>GET /api/v1/portfolio</c> before each kline is delivered (a host call cannot wait for I/O). The runner holds
/// the gateway's signing key, so it signs an identity for the owner, for reading their own portfolio only.
/// When the engine cannot answer the strategy sees NaN, as the ABI documents.
/// </summary>
public sealed class QuoteBalanceSource(IHttpClientFactory clients, IdentityToken tokens, ILogger<QuoteBalanceSource> logger)
{
    public const string HttpClientName = "paper-engine";

    private static readonly string[] QuoteAssets = ["USDT", "USDC", "FDUSD", "BUSD", "TUSD", "DAI", "EUR", "TRY", "BTC", "ETH", "BNB"];

    public async Task<decimal?> ReadAsync(Guid userId, string symbol, CancellationToken ct)
    {
        var quote = QuoteAssetOf(symbol);
        if (quote is null)
        {
            return null;
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            var client = clients.CreateClient(HttpClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/portfolio");
            request.Headers.Add(IdentityToken.HeaderName, tokens.Issue(new Caller(userId, "strategy", new PlanLimits(0, 0, 0, 0))));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await client.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogDebug("Portfolio of {UserId} not available: {Status}", userId, (int)response.StatusCode);
                return null;
            }
            using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), cancellationToken: timeout.Token);
            if (json.RootElement.TryGetProperty("balances", out var balances) && balances.ValueKind == JsonValueKind.Array)
            {
                foreach (var balance in balances.EnumerateArray())
                {
                    if (balance.TryGetProperty("asset", out var asset) && asset.GetString() == quote
                        && balance.TryGetProperty("free", out var free) && free.TryGetDecimal(out var value))
                    {
                        return value;
                    }
                }
                return 0m;
            }
            return null;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or JsonException && !ct.IsCancellationRequested)
        {
            logger.LogDebug(ex, "Portfolio of {UserId} not available", userId);
            return null;
        }
    }

    public static string? QuoteAssetOf(string symbol) =>
        QuoteAssets.FirstOrDefault(q => symbol.Length > q.Length && symbol.EndsWith(q, StringComparison.Ordinal));
}
