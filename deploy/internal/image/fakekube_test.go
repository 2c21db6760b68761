package image

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// emptyCollections are the collections hsds-autoscaler serve lists and watches at start (its pod
// informer; the API server's client-CA configmap), by resource: kind and apiVersion.
var emptyCollections = map[string][2]string{
	"pods":       {"Pod", "v1"},
	"configmaps": {"ConfigMap", "v1"},
}

// startFakeKubeAPI serves just enough of a Kubernetes API on loopback for `hsds-autoscaler serve`
// to start and answer /healthz: the collections above exist and are empty (a list, or a watch
// that sends the end-of-initial-events bookmark and then waits); everything else is 404, so the
// autoscaler never wins its leader Lease and never scales anything. It returns the path of a
// kubeconfig for it in dir.
func startFakeKubeAPI(t *testing.T, dir string) string {
	t.Helper()
	quit := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		c, ok := emptyCollections[parts[len(parts)-1]]
		switch {
		case !ok || r.Method != http.MethodGet:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
		case r.URL.Query().Get("watch") == "true":
			if r.URL.Query().Get("sendInitialEvents") == "true" {
				fmt.Fprintf(w, `{"type":"BOOKMARK","object":{"kind":%q,"apiVersion":%q,"metadata":{"resourceVersion":"1","annotations":{"k8s.io/initial-events-end":"true"}}}}`+"\n", c[0], c[1])
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-quit:
			}
		default:
			fmt.Fprintf(w, `{"kind":"%sList","apiVersion":%q,"metadata":{"resourceVersion":"1"},"items":[]}`, c[0], c[1])
		}
	}))
	t.Cleanup(func() { close(quit); ts.Close() })
	kubeconfig := filepath.Join(dir, "kubeconfig")
	body := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: %q}}]
users: [{name: fake, user: {}}]
contexts: [{name: fake, context: {cluster: fake, user: fake}}]
current-context: fake
`, ts.URL)
	if err := os.WriteFile(kubeconfig, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}
