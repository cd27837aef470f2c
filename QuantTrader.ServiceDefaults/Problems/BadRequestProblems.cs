using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace QuantTrader.ServiceDefaults.Problems;

/// <summary>
/// A request the framework could not read (a query value that is not a number, a body that is not JSON, a number
/// that overflows its field, a wrong type) is the client's mistake: a 400 validation problem naming the field,
/// never a 500. Minimal APIs throw <see cref="BadHttpRequestException"/> for these (ThrowOnBadRequest, set in
/// <see cref="AddBadRequestProblems"/>) so the field can be named; the bounds of values that do parse are each
/// route's own explicit checks.
/// </summary>
public sealed partial class BadRequestProblems : IExceptionHandler
{
    public static void AddBadRequestProblems(IServiceCollection services)
    {
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<BadRequestProblems>();
    }

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        if (context.Response.HasStarted)
        {
            return false;
        }
        var json = exception as JsonException ?? exception.InnerException as JsonException;
        if (exception is not BadHttpRequestException && json is null)
        {
            return false;
        }
        var status = exception is BadHttpRequestException bad && bad.StatusCode != StatusCodes.Status500InternalServerError
            ? bad.StatusCode
            : StatusCodes.Status400BadRequest;
        IResult problem;
        if (status == StatusCodes.Status400BadRequest)
        {
            var field = FieldOf(json) ?? ParameterOf(exception.Message) ?? "body";
            var detail = json is not null
                ? $"The body is not valid JSON for this route at '{field}': {FirstLine(json.Message)}"
                : FirstLine(exception.Message);
            problem = ProblemResults.Validation(field, detail);
        }
        else
        {
            problem = ProblemResults.Problem(status, "bad-request", "The request cannot be read.", FirstLine(exception.Message));
        }
        await problem.ExecuteAsync(context);
        return true;
    }

    /// <summary>"$.legs[0].price" → "legs[0].price".</summary>
    private static string? FieldOf(JsonException? json) => json?.Path is { Length: > 1 } path
        ? path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$')
        : null;

    /// <summary>Minimal APIs' messages name the parameter: Failed to bind parameter "int limit" from "abc".</summary>
    private static string? ParameterOf(string message) => ParameterName().Match(message) is { Success: true } m ? m.Groups[1].Value : null;

    private static string FirstLine(string message)
    {
        var line = message.Split('\n')[0].Trim();
        // Framework messages may quote the rejected value; a 10,000-character value is not worth echoing.
        return line.Length > 300 ? line[..300] + "…" : line;
    }

    [GeneratedRegex("parameter \"[^\"]*?\\s(\\w+)\"")]
    private static partial Regex ParameterName();
}
