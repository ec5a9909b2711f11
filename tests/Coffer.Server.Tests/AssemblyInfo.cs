// xunit runs as many test classes at once as the machine has cores (two on the build machine). Many of
// these tests spend their time waiting on real parts (a node's background round, a staleness bound,
// PostgreSQL or HAProxy starting) rather than computing: a full run used about a quarter of the two cores with
// four classes at once, so eight keep them
// busy (docs/build.md, "Keeping the tests fast").
[assembly: CollectionBehavior(MaxParallelThreads = 8)]
