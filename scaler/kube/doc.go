// Package kube implements the interfaces package scaler declares with client-go: the scale
// subresource (ScaleClient), the HPA conflict check (HPALister), Events (EventSink), pod deletion
// (PodDeleter), and Lease-based leader election. It is the only package of the scaler that
// imports client-go.
package kube
