package kube

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"

	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

func hpa(ns, name, apiVersion, kind, target string) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: apiVersion, Kind: kind, Name: target},
			MaxReplicas:    10,
		},
	}
}

func TestHPALister(t *testing.T) {
	cs := fake.NewClientset(
		hpa("default", "match", "apps/v1", "Deployment", "hsds"),
		hpa("default", "match-other-version", "apps/v1beta2", "Deployment", "hsds"),
		hpa("default", "no-apiversion", "", "Deployment", "hsds"),
		hpa("default", "other-name", "apps/v1", "Deployment", "web"),
		hpa("default", "other-kind", "apps/v1", "StatefulSet", "hsds"),
		hpa("default", "other-group", "example.com/v1", "Deployment", "hsds"),
		hpa("other", "other-namespace", "apps/v1", "Deployment", "hsds"),
	)
	got, err := NewHPALister(cs).HPAsTargeting(context.Background(), deployTarget)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"match", "match-other-version", "no-apiversion"}, got); diff != "" {
		t.Errorf("HPAsTargeting (-want +got):\n%s", diff)
	}
}

func TestEventSink(t *testing.T) {
	rec := record.NewFakeRecorder(10)
	rec.IncludeObject = true
	NewEventSink(rec).Event(scaler.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "hsds"},
		scaler.EventNormal, scaler.EventReasonRescaled, "scaled from 3 to 5")
	got := <-rec.Events
	want := "Normal Rescaled scaled from 3 to 5 involvedObject{kind=Deployment,apiVersion=apps/v1}"
	if got != want {
		t.Errorf("event = %q, want %q", got, want)
	}
}

func TestNewEventRecorderWritesEvents(t *testing.T) {
	cs := fake.NewClientset()
	rec, stop := NewEventRecorder(cs, "hsds-autoscaler")
	t.Cleanup(stop)
	NewEventSink(rec).Event(scaler.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "hsds"},
		scaler.EventWarning, scaler.EventReasonWaitingForCapacity, "2 pod(s) waiting")
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := cs.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) == 1 {
			e := list.Items[0]
			if e.Reason != scaler.EventReasonWaitingForCapacity || e.InvolvedObject.Name != "hsds" || e.Source.Component != "hsds-autoscaler" {
				t.Errorf("event = %+v", e)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event written within 5s (have %d)", len(list.Items))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPodDeleter(t *testing.T) {
	cs := fake.NewClientset(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "hsds-1"}})
	d := NewPodDeleter(cs)
	if err := d.DeletePod(context.Background(), "default", "hsds-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods("default").Get(context.Background(), "hsds-1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("pod still there: %v", err)
	}
	if err := d.DeletePod(context.Background(), "default", "hsds-1"); !apierrors.IsNotFound(err) {
		t.Errorf("second delete: want NotFound, got %v", err)
	}
}
