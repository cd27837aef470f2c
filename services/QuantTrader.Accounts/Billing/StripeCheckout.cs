using Microsoft.Extensions.Options;
using QuantTrader.Accounts.Plans;
using QuantTrader.Accounts.Users;
using Stripe;
using Plan = QuantTrader.Accounts.Plans.Plan;
using Stripe.Checkout;

namespace QuantTrader.Accounts.Billing;

/// <summary>Creates Stripe Checkout Sessions for a plan, with one Stripe customer per user.</summary>
public sealed class StripeCheckout(IOptions<StripeSettings> settings, UserStore users, IHttpClientFactory httpClients)
{
    public const string HttpClientName = "stripe";

    private StripeClient Client()
    {
        var s = settings.Value;
        return new StripeClient(new StripeClientOptions
        {
            ApiKey = s.SecretKey,
            ApiBase = string.IsNullOrWhiteSpace(s.ApiBase) ? null : s.ApiBase,
            HttpClient = new SystemNetHttpClient(httpClients.CreateClient(HttpClientName)),
        });
    }

    /// <summary>The session's URL. <paramref name="idempotencyKey"/> makes a retried request return the same session.</summary>
    public async Task<string> CreateSessionAsync(User user, Plan plan, string idempotencyKey, CancellationToken ct)
    {
        var client = Client();
        var customerId = user.StripeCustomerId;
        if (customerId is null)
        {
            // Idempotent per user: two concurrent checkouts cannot create two Stripe customers.
            var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions
            {
                Email = user.Email,
                Metadata = new Dictionary<string, string> { ["userId"] = user.Id.ToString() },
            }, new RequestOptions { IdempotencyKey = $"customer-{user.Id}" }, ct);
            customerId = customer.Id;
            await users.SetStripeCustomerAsync(user.Id, customerId, ct);
        }

        var metadata = new Dictionary<string, string> { ["userId"] = user.Id.ToString(), ["plan"] = plan.Name };
        var session = await client.V1.Checkout.Sessions.CreateAsync(new SessionCreateOptions
        {
            Mode = "subscription",
            Customer = customerId,
            ClientReferenceId = user.Id.ToString(),
            LineItems = [new SessionLineItemOptions { Price = plan.StripePriceId, Quantity = 1 }],
            Metadata = metadata,
            SubscriptionData = new SessionSubscriptionDataOptions { Metadata = metadata },
            SuccessUrl = settings.Value.SuccessUrl,
            CancelUrl = settings.Value.CancelUrl,
        }, new RequestOptions { IdempotencyKey = idempotencyKey }, ct);
        return session.Url;
    }
}
