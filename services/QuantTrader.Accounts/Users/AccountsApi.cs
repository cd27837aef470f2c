using System.Net.Mail;
using QuantTrader.Accounts.Plans;
using QuantTrader.Contracts.Accounts;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Accounts.Users;

public sealed record CreateAccountRequest(string? Email);
public sealed record CreatedAccount(Guid UserId, string ApiKey, Guid KeyId);
public sealed record AccountView(Guid UserId, string Email, string Plan, PlanLimits Limits, DateTimeOffset CreatedAt, bool Operator);
public sealed record CreatedKey(Guid Id, string Prefix, string ApiKey);
public sealed record AuthenticateRequest(string? ApiKey);
public sealed record AuthenticatedCaller(Guid UserId, string Plan, PlanLimits Limits, bool Operator);

public static class AccountsApi
{
    public static WebApplication MapAccountsApi(this WebApplication app)
    {
        var accounts = app.MapGroup("/api/v1/accounts").WithTags("Accounts");

        accounts.MapPost("", CreateAsync)
            .WithSummary("Create a user on the free plan; the API key is returned once.");

        var me = accounts.MapGroup("/me").RequireCaller();
        me.MapGet("", GetMeAsync).WithSummary("The caller's user id, email, plan, the plan's limits and whether the account is an operator (may import into shared markets).");
        me.MapGet("/keys", async (HttpContext http, UserStore users, CancellationToken ct) =>
                TypedResults.Ok(await users.ListKeysAsync(http.GetCaller().UserId, ct)))
            .WithSummary("The caller's API keys (id and prefix; never the key itself).");
        me.MapPost("/keys", CreateKeyAsync).WithSummary("Create an additional API key (for rotation); returned once.");
        me.MapDelete("/keys/{id:guid}", RevokeKeyAsync).WithSummary("Revoke one of the caller's keys (not the last active one).");

        // Not routed by the gateway: the gateway itself asks here who owns a key.
        app.MapPost("/internal/authenticate", AuthenticateAsync).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> CreateAsync(CreateAccountRequest request, UserStore users, ILogger<UserStore> logger, CancellationToken ct)
    {
        var email = request.Email?.Trim();
        if (string.IsNullOrEmpty(email) || email.Length > 254 || !MailAddress.TryCreate(email, out var parsed) || parsed.Address != email)
        {
            return ProblemResults.Validation("email", "A valid email address is required.");
        }
        var created = await users.CreateAsync(email.ToLowerInvariant(), ct);
        if (created is not { } c)
        {
            return ProblemResults.Conflict("email-taken", "An account with this email already exists.");
        }
        logger.LogInformation("Created user {UserId} on the free plan", c.User.Id);
        return TypedResults.Created($"/api/v1/accounts/me", new CreatedAccount(c.User.Id, c.Key, c.KeyId));
    }

    private static async Task<IResult> GetMeAsync(HttpContext http, UserStore users, PlanCatalog plans, Operators operators, CancellationToken ct)
    {
        var user = await users.FindAsync(http.GetCaller().UserId, ct);
        if (user is null)
        {
            return ProblemResults.NotFound("The account");
        }
        return TypedResults.Ok(new AccountView(user.Id, user.Email, user.Plan, plans[user.Plan].Limits, user.CreatedAt, operators.IsOperator(user.Email)));
    }

    private static async Task<IResult> CreateKeyAsync(HttpContext http, UserStore users, CancellationToken ct)
    {
        var (id, key) = await users.CreateKeyAsync(http.GetCaller().UserId, ct);
        return TypedResults.Created($"/api/v1/accounts/me/keys/{id}", new CreatedKey(id, Keys.ApiKey.PrefixOf(key), key));
    }

    private static async Task<IResult> RevokeKeyAsync(Guid id, HttpContext http, UserStore users, AccountChanges changes, CancellationToken ct)
    {
        var userId = http.GetCaller().UserId;
        switch (await users.RevokeKeyAsync(userId, id, ct))
        {
            case UserStore.RevokeResult.NotFound:
                return ProblemResults.NotFound("The key");
            case UserStore.RevokeResult.LastActiveKey:
                return ProblemResults.Conflict("last-key", "This is your only active key: create a new one before revoking it.");
            default:
                await changes.PublishAsync(userId, "key revoked", ct);
                return TypedResults.NoContent();
        }
    }

    private static async Task<IResult> AuthenticateAsync(AuthenticateRequest request, UserStore users, PlanCatalog plans, Operators operators, CancellationToken ct)
    {
        if (!Keys.ApiKey.LooksValid(request.ApiKey))
        {
            return TypedResults.Unauthorized();
        }
        var user = await users.FindByKeyAsync(request.ApiKey!, ct);
        return user is null
            ? TypedResults.Unauthorized()
            : TypedResults.Ok(new AuthenticatedCaller(user.Id, user.Plan, plans[user.Plan].Limits, operators.IsOperator(user.Email)));
    }
}
