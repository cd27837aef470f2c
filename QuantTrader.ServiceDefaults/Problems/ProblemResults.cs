using Microsoft.AspNetCore.Http;

namespace QuantTrader.ServiceDefaults.Problems;

/// <summary>
/// RFC 9457 problem details with stable <c>type</c> URIs (<see cref="TypeBase"/> + slug): clients switch on
/// <c>type</c>, people read <c>detail</c>; <c>field</c> or <c>limit</c> name what to fix.
/// </summary>
public static class ProblemResults
{
    public const string TypeBase = "https://quanttrader.dev/problems/";

    public static IResult Problem(int status, string slug, string title, string detail, IDictionary<string, object?>? extensions = null)
        => TypedResults.Problem(detail: detail, statusCode: status, title: title, type: TypeBase + slug, extensions: extensions);

    public static IResult Validation(string field, string detail)
        => Problem(StatusCodes.Status400BadRequest, "validation", "The request is invalid.", detail, new Dictionary<string, object?> { ["field"] = field });

    public static IResult Unauthorized(string detail)
        => Problem(StatusCodes.Status401Unauthorized, "unauthorized", "Authentication is required.", detail);

    public static IResult NotFound(string what)
        => Problem(StatusCodes.Status404NotFound, "not-found", "Not found.", $"{what} does not exist or is not yours.");

    public static IResult PlanLimit(string limit, string detail)
        => Problem(StatusCodes.Status403Forbidden, "plan-limit", "Your plan's limit is reached.", detail, new Dictionary<string, object?> { ["limit"] = limit });

    public static IResult Conflict(string slug, string detail)
        => Problem(StatusCodes.Status409Conflict, slug, "Conflict.", detail);

    public static IResult Unavailable(string slug, string detail)
        => Problem(StatusCodes.Status503ServiceUnavailable, slug, "Service unavailable.", detail);
}
