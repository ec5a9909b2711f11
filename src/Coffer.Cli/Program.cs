using System.CommandLine;
using Coffer.Cli.Commands;

// `coffer`: one executable that is both the server and its CLI (docs/design.md, "Shape").
var root = new RootCommand("Coffer: a self-hosted external key manager for AWS KMS (XKS proxy API v1).");
DevCommand.AddTo(root);
ServerCommand.AddTo(root);
SystemCommands.AddTo(root);
KeyStoreCommands.AddTo(root);
KeyCommands.AddTo(root);
return await root.Parse(args).InvokeAsync();
