using System.Data.Common;

namespace Coffer.Storage.Repositories;

/// <summary>Parameters on commands built by hand (where Dapper's anonymous objects do not fit).</summary>
internal static class CommandParameters
{
    /// <summary>Adds <paramref name="name"/> (as written in the SQL, "@Name") with its value; the
    /// driver infers the type from the value (long, string, byte[]).</summary>
    public static DbParameter Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
