package objects

import "testing"

func TestDecode(t *testing.T) {
	objs, err := Decode([]byte("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n"))
	if err != nil || len(objs) != 2 || objs[0].GetName() != "a" || objs[1].GetKind() != "Secret" {
		t.Fatalf("Decode = %d objects, %v", len(objs), err)
	}
	if _, err := Decode([]byte("kind: [unclosed\n")); err == nil {
		t.Error("Decode of broken YAML succeeded")
	}
}
