// Package trace reads and generates request-rate traces in the `t_seconds,requests_per_second`
// format of bench/traces (see bench/traces/SOURCES.md), and cuts, compresses and scales them for
// replay.
//
// Parse streams its input: it holds at most ParseOptions.MaxBins bins and halves its resolution
// (averaging pairs of bins) whenever it would hold more, so a file of any size parses in bounded
// memory.
package trace
