// Benchmarks land with issue 9; see BENCHMARKS.md.
process.stderr.write('bench: no benchmarks yet (issue 9)\n');
process.exitCode = 1;
