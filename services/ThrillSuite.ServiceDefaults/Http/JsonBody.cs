using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ThrillSuite.ServiceDefaults.Http;

/// <summary>
/// Reads a JSON request body so that every refusal is a 400 problem naming the field: malformed JSON, a value of the
/// wrong type (by its JSON path) or, through <see cref="Problems"/>, a missing or invalid field.
/// </summary>
public static class JsonBody
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        AllowDuplicateProperties = false,
    };

    public static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest request) where T : class
    {
        if (!request.HasJsonContentType())
            return (null, Problems.BadRequest("body", "The body must be JSON (Content-Type: application/json)."));
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, Options, request.HttpContext.RequestAborted);
            return value is null ? (null, Problems.BadRequest("body", "The body must be a JSON object.")) : (value, null);
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
            return (null, Problems.BadRequest(field, $"Malformed JSON or a value of the wrong type at {ex.Path ?? "$"}."));
        }
    }
}

public static class Problems
{
    /// <summary>400 with an RFC 7807 validation body: <c>errors: { field: [message] }</c>.</summary>
    public static IResult BadRequest(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: $"{field}: {message}");

    public static IResult BadRequest(IDictionary<string, string[]> errors) =>
        Results.ValidationProblem(errors, detail: string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));

    public static IResult NotFound(string what) => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: what);

    public static IResult Conflict(string what) => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: what);
}
