// Package autoscalers runs one scaler.Controller per HSDSAutoscaler object (api/v1alpha1): it
// starts one when an object appears, rebuilds it when the object's spec changes (carrying over
// what the policy learned), stops it when the object goes, and writes each object's status (last
// decision, conditions, learned state) through the StatusWriter it declares. A controller built
// for an object that carries status.learned starts from it. No client-go here: scaler/kube
// delivers the objects (Source) and writes the status (StatusWriter).
package autoscalers
