// Package view formats the demo's live terminal view from one snapshot of the figures: a full
// frame redrawn with plain ANSI escapes on a terminal, or one appended line per refresh when
// stdout is not a terminal. Pure: the caller collects the snapshot and writes the text.
package view
