// Package suite is the pipeline around one benchmark suite that `bench
// run` and `bench report` wire together, as a library other tools (a CI
// bot, a dashboard) can call: the verifier filter over loaded scenarios,
// the microbenchmark file check, the environment record, the outputs of a
// finished run (results.json, its benchmark-format copy, the report), the
// merge of a sharded suite's run directories, and the verdict a run's
// exit code follows.
//
// It sits at the end of the data flow (runner, profiles and report are
// its inputs); nothing but cmd/bench imports it.
package suite
