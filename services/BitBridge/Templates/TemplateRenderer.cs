using System.Text.Json;
using System.Text.RegularExpressions;

namespace BitBridge.Templates;

/// <summary>A template that cannot be filled: every placeholder it could not resolve, so nothing is sent half-filled.</summary>
public sealed class TemplateRenderException(string templateId, IReadOnlyList<string> missing)
    : Exception($"Template '{templateId}' cannot be rendered: no value for {string.Join(", ", missing.Select(m => "{{" + m + "}}"))}.")
{
    public IReadOnlyList<string> Missing { get; } = missing;
}

/// <summary>
/// Strict <c>{{path.to.field}}</c> placeholders over a JSON document: object members by name, array items by index. Strings
/// are inserted as they are, numbers, booleans, objects and arrays as their JSON text. A missing path or a null value
/// fails the whole render.
/// </summary>
public static partial class TemplateRenderer
{
    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"\{\{|\}\}")]
    private static partial Regex Braces();

    public static string Render(string templateId, string text, JsonElement root)
    {
        var missing = new List<string>();
        var result = Placeholder().Replace(text, m =>
        {
            if (Resolve(root, m.Groups[1].Value) is { } value) return value;
            missing.Add(m.Groups[1].Value);
            return "";
        });
        if (missing.Count > 0) throw new TemplateRenderException(templateId, missing.Distinct().ToList());
        return result;
    }

    /// <summary>Problems of a template's text before it is stored: braces that are not a placeholder.</summary>
    public static string? Check(string text)
    {
        var stripped = Placeholder().Replace(text, "");
        return Braces().IsMatch(stripped) ? "'{{' or '}}' outside a placeholder; placeholders are {{path.to.field}} (letters, digits, '_', '.')." : null;
    }

    static string? Resolve(JsonElement root, string path)
    {
        var current = root;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(part, out var member)) current = member;
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(part, out var i) && i >= 0 && i < current.GetArrayLength()) current = current[i];
            else return null;
        }
        return current.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            JsonValueKind.String => current.GetString(),
            _ => current.GetRawText(),
        };
    }
}
