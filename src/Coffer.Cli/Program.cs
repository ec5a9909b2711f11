return await Coffer.Cli.CofferCli.RunAsync(args, Console.Out, Console.Error);
