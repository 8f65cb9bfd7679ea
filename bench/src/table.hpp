// `modu-bench table OUT.md FILE.json...`: turns --json reports into the markdown comparison
// that bench/run-all writes: one table per scenario (and per load, when runs of one scenario
// used different sizes), a row per server, then two rows of ratios, Modu's figure divided by
// the raw-TCP baseline's and by the best peer's (the best passing run among the others),
// then the command that reproduces each row. Appends to OUT.md and echoes to stdout.
#pragma once

namespace bench {
int table_main(int argc, char** argv);
}
