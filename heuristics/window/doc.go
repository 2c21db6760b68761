// Package window holds the time-windowed statistics the policies are built from: time-bucketed
// averages, sliding extrema (monotonic deque), an EWMA with time-based decay and a timestamped
// series with a least-squares slope (gonum/stat).
//
// Everything takes explicit timestamps: nothing reads a clock. Values are not safe for
// concurrent use; each belongs to one recommender, which is driven by one caller.
package window
