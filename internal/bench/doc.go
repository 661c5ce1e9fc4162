// Package bench is the fleet benchmark: the real terraform CLI and the
// provider, built from this tree, against the in-process emulator at fleet
// scale (N servers created, refreshed, updated and destroyed), side by side
// with the same fleet managed by terraform_data and local-exec curl calls.
//
// Everything lives in _test.go files, so nothing here ships in the provider;
// this file only names the package. Run it with `make bench` (BENCH_N=10
// for a quick look); fleet_bench_test.go says what it measures and how.
package bench
