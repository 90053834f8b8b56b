"""scripts/bench: the stack measured on real containers (docs/PERFORMANCE.md).

common: running commands, reporting rows; measure: wrk, memory and CPU readings
(parsers tested in tests/api/tooling/test_bench_measure.py); one module per group
of sections; cli: options and the final table."""
