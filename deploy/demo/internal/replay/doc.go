// Package replay chooses what part of a real trace the demo replays, how fast and how loud: a
// flash-crowd slice (low at both ends, a peak early in the middle), compressed in time and scaled
// so that its peak is a chosen request rate. Pure functions; no clock, no I/O beyond trace.ReadFile.
package replay
