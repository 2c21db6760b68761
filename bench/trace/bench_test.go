package trace

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkParse measures parse throughput (bytes/s of trace text).
func BenchmarkParse(b *testing.B) {
	var buf bytes.Buffer
	fmt.Fprintln(&buf, Header)
	for i := range 100_000 {
		fmt.Fprintf(&buf, "%d,%.4f\n", 60*i, float64(i%997)/7)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), "b", DefaultParseOptions()); err != nil {
			b.Fatal(err)
		}
	}
}
