using System.CommandLine;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary>
/// <c>coffer keystore ...</c>: key stores (each an XKS endpoint under its URI prefix), their SigV4
/// credentials and the file the AWS KMS console imports. KEYSTORE arguments take an id or a name.
/// </summary>
internal static class KeyStoreCommands
{
    public static void AddTo(RootCommand root) => AddTo(root, CliEnvironment.ForProcess(Console.Out, Console.Error));

    public static void AddTo(RootCommand root, CliEnvironment env)
    {
        var credential = new Command("credential", "SigV4 credentials AWS KMS signs its XKS calls with.")
        {
            AddCredential(env), ListCredentials(env), RevokeCredential(env),
        };
        var command = new Command("keystore", "Key stores: each one is an external key store in AWS KMS, served under its own URI prefix.")
        {
            Create(env), List(env), Show(env), Delete(env), credential, ExportConfig(env), RotationPolicyCommands.ForKeyStore(env),
        };
        root.Subcommands.Add(command);
    }

    private static Command Create(CliEnvironment env)
    {
        var name = new Argument<string>("name") { Description = "Name: 1 to 64 letters, digits, '.', '_' or '-'" };
        var prefix = new Option<string>("--prefix")
        {
            Description = "URI path prefix in front of /kms/xks/v1, e.g. /tenant-a (\"\" for none)",
            Required = true,
        };
        var backend = new Option<string>("--backend")
        {
            Description = "Where its keys live: software (sealed under the master key) or pkcs11 (inside the configured HSM)",
            DefaultValueFactory = _ => "software",
        };
        backend.AcceptOnlyFromAmong("software", "pkcs11");
        var command = new Command("create", "Create a key store at a URI prefix.") { name, prefix, backend };
        command.SetClientAction(env, async (call, ct) =>
        {
            var store = await call.Api.PostAsync(ManagementClient.Route("keystores"),
                new CreateKeyStoreRequest(call.Parse.GetValue(name), call.Parse.GetValue(prefix), call.Parse.GetValue(backend)), ManagementJson.Default.CreateKeyStoreRequest, ManagementJson.Default.KeyStoreView, ct);
            if (call.Json)
            {
                Json.Write(call.Out, store.Json);
                return 0;
            }

            Views.KeyStore(call.Out, store.Value);
            await call.Out.WriteLineAsync($"Next: `coffer keystore credential add {store.Value.Id}` gives AWS KMS a credential.");
            return 0;
        });
        return command;
    }

    private static Command List(CliEnvironment env)
    {
        var command = new Command("list", "List key stores.");
        command.SetClientAction(env, async (call, ct) =>
        {
            var stores = await call.Api.GetAsync(ManagementClient.Route("keystores"), ManagementJson.Default.ListKeyStoreView, ct);
            call.Print(stores, Views.KeyStores);

            return 0;
        });
        return command;
    }

    private static Command Show(CliEnvironment env)
    {
        var store = KeyStoreArgument("id");
        var command = new Command("show", "Show a key store.") { store };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyStoreIdAsync(call.Api, call.Parse.GetValue(store)!, ct);
            var view = await call.Api.GetAsync(ManagementClient.Route("keystores", id), ManagementJson.Default.KeyStoreView, ct);
            call.Print(view, Views.KeyStore);

            return 0;
        });
        return command;
    }

    private static Command Delete(CliEnvironment env)
    {
        var store = KeyStoreArgument("id");
        var command = new Command("delete", "Delete a key store; it must have no keys.") { store };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyStoreIdAsync(call.Api, call.Parse.GetValue(store)!, ct);
            await call.Api.DeleteAsync(ManagementClient.Route("keystores", id), ct);
            if (!call.Json)
            {
                await call.Out.WriteLineAsync($"Deleted key store {id}.");
            }

            return 0;
        });
        return command;
    }

    private static Command AddCredential(CliEnvironment env)
    {
        var store = KeyStoreArgument("keystore");
        var command = new Command("add", "Add a SigV4 credential to a key store; prints its secret once.") { store };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyStoreIdAsync(call.Api, call.Parse.GetValue(store)!, ct);
            var created = await call.Api.PostAsync(ManagementClient.Route("keystores", id, "credentials"), ManagementJson.Default.CreatedCredential, ct);
            var warning = "WARNING: the secret access key is shown only now. Enter it in the AWS KMS console, or get the console file with "
                + $"`coffer keystore export-config {id} {created.Value.Id} --output xks-proxy.json`.";
            if (call.Json)
            {
                Json.Write(call.Out, created.Json);
                await call.Error.WriteLineAsync(warning);
                return 0;
            }

            var c = created.Value;
            Table.Properties(call.Out,
            [
                ("Credential ID", c.Id),
                ("Key store", c.KeyStoreId),
                ("Access key ID", c.AccessKeyId),
                ("Secret access key", c.SecretAccessKey),
                ("Created", Table.Time(c.CreatedAt)),
            ]);
            await call.Out.WriteLineAsync();
            await call.Out.WriteLineAsync(warning);
            return 0;
        });
        return command;
    }

    private static Command ListCredentials(CliEnvironment env)
    {
        var store = KeyStoreArgument("keystore");
        var command = new Command("list", "List a key store's credentials (never their secrets).") { store };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyStoreIdAsync(call.Api, call.Parse.GetValue(store)!, ct);
            var credentials = await call.Api.GetAsync(ManagementClient.Route("keystores", id, "credentials"), ManagementJson.Default.ListCredentialView, ct);
            call.Print(credentials, Views.Credentials);

            return 0;
        });
        return command;
    }

    private static Command RevokeCredential(CliEnvironment env)
    {
        var store = KeyStoreArgument("keystore");
        var credential = new Argument<string>("credential-id") { Description = "Credential id (see `coffer keystore credential list`)" };
        var command = new Command("revoke", "Revoke a credential at once: AWS KMS calls signed with it fail from now on.") { store, credential };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyStoreIdAsync(call.Api, call.Parse.GetValue(store)!, ct);
            var credentialId = call.Parse.GetValue(credential)!;
            await call.Api.DeleteAsync(ManagementClient.Route("keystores", id, "credentials", credentialId), ct);
            if (!call.Json)
            {
                await call.Out.WriteLineAsync($"Revoked credential {credentialId} of key store {id}.");
            }

            return 0;
        });
        return command;
    }

    private static Command ExportConfig(CliEnvironment env)
    {
        var store = KeyStoreArgument("keystore");
        var credential = new Argument<string>("credential-id") { Description = "Credential id (see `coffer keystore credential list`)" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the file here (mode 0600) instead of to stdout" };
        var command = new Command("export-config",
            "Print or write the JSON file the AWS KMS console imports for an external key store (URI path and credential, secret included).")
        {
            store, credential, output,
        };
        command.SetClientAction(env, async (call, ct) =>
        {
            var id = await Lookup.KeyStoreIdAsync(call.Api, call.Parse.GetValue(store)!, ct);
            var config = await call.Api.GetAsync(ManagementClient.Route("keystores", id, "credentials", call.Parse.GetValue(credential)!, "aws-config"),
                ManagementJson.Default.AwsConsoleConfig, ct);
            var file = call.Parse.GetValue(output);
            if (file is null)
            {
                Json.Write(call.Out, config.Json);
                return 0;
            }

            var path = Path.GetFullPath(file, env.WorkingDirectory);
            await SecretFile.WriteAsync(path, config.Json, ct);
            await call.Out.WriteLineAsync($"Wrote {path} (mode 0600): it holds the secret access key. Import it in the AWS KMS console, then delete it.");
            return 0;
        });
        return command;
    }

    private static Argument<string> KeyStoreArgument(string name) => new(name) { Description = "Key store id or name" };
}
