using System.Data;
using Dapper;

namespace ThrillSuite.Data;

/// <summary>
/// Npgsql reports a text[] column as System.Array, which Dapper will not match to a record's string[]
/// constructor parameter unless a handler claims the type.
/// </summary>
public sealed class TextArrayHandler : SqlMapper.TypeHandler<string[]>
{
    /// <summary>Idempotent: the service defaults call it once per process.</summary>
    public static void Register() => SqlMapper.AddTypeHandler(new TextArrayHandler());

    public override string[]? Parse(object value) => (string[])value;

    public override void SetValue(IDbDataParameter parameter, string[]? value) => parameter.Value = (object?)value ?? DBNull.Value;
}
