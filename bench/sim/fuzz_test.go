package sim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// FuzzDecodeScenario: any input either fails with an error or yields a scenario that validates
// and survives an encode/decode round trip unchanged (NaN or infinite values would not: they must
// be refused by Validate).
func FuzzDecodeScenario(f *testing.F) {
	for _, s := range []string{
		"",
		"startupSeconds: 45\nmix: {chunkGet: 1, chunkPut: 0, post: 0, crawl: 0, small: 0}\n",
		"startupSecond: 45\n",
		"tickSeconds: 0\nminReplicas: 5\nmaxReplicas: 3\nmix: {chunkGet: 0.9}\n",
		`{"tickSeconds": 0.05, "maxTaskCount": 100, "retries": 10}`,
		"serviceSigma: .nan\n",
		"nodeAddSeconds: .inf\n",
		"maxReplicas: -1\n",
		"mix: [1, 2]\n",
		"- a\n- b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeScenario(data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("DecodeScenario accepted a scenario that does not validate: %v", err)
		}
		enc, err := yaml.Marshal(s)
		if err != nil {
			t.Fatalf("encoding a decoded scenario: %v", err)
		}
		back, err := DecodeScenario(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if diff := cmp.Diff(s, back); diff != "" {
			t.Fatalf("round trip changed the scenario (-first +second):\n%s", diff)
		}
	})
}
