// xunit runs as many test classes at once as the machine has cores (two on the build machine). These
// tests mostly wait for the coffer processes they start: the whole project used about 97 s of CPU in
// 396 s with two classes at once, and its one-test package class (a publish, 200 s) only began after
// 160 s. Four at once keep the cores busier and start it sooner (docs/build.md, "Keeping the tests fast").
[assembly: CollectionBehavior(MaxParallelThreads = 4)]
