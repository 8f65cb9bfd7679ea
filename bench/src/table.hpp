// `modu-bench table OUT.md FILE.json...`: turns --json reports into the markdown comparison
// table that bench/run-all writes.
#pragma once

namespace bench {
int table_main(int argc, char** argv);
}
