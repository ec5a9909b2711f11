// Four classes at once. Many of these tests wait on real parts (a node's background round, a staleness
// bound, PostgreSQL or HAProxy starting) rather than compute, so more classes than cores keep the cores
// busy; since a node start became cheap, eight at once beside the other projects only added contention,
// and with it timeouts in tests that bound a real wait (docs/build.md, "Keeping the tests fast").
[assembly: CollectionBehavior(MaxParallelThreads = 4)]

// Every SoftHSM2 token this project's tests take, made before the module loads: 64 while the classes
// run in parallel and 6 more in HsmOutageCollection after them (docs/build.md, "Keeping the tests fast").
[assembly: Coffer.Testing.SoftHsmTokens(80)]
