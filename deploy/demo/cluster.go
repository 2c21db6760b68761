package main

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
)

// Names of the objects the demo creates.
const (
	namespace      = "default"
	deploymentName = "hsds"
	serviceName    = "hsds-autoscaler"
)

// hsdsDeployment is the demo's HSDS Deployment: label app=hsds only (HSDS finds its data nodes by
// it), one pod = sn + dn + hsds-agent. The images are never pulled: the fake node runs the pods.
// Real pods (real) run as the ServiceAccount hsds (rbacYAML: HSDS lists the pods) with 5 s to
// stop, HSDS 0.9.4 and the agent reading its /info.
func hsdsDeployment(replicas int32, real bool) *appsv1.Deployment {
	labels := map[string]string{"app": "hsds"}
	image, source := "hdfgroup/hsds:v1.0.1", "--source=metrics"
	if real {
		image, source = "hdfgroup/hsds:v0.9.4", "--source=info"
	}
	container := func(name string, port int32) corev1.Container {
		return corev1.Container{Name: name, Image: image, Ports: []corev1.ContainerPort{{Name: name, ContainerPort: port}}}
	}
	agentC := corev1.Container{Name: "hsds-agent", Image: "ghcr.io/hsds-autoscaler/hsds-agent:0.1.0", Args: []string{source},
		Ports: []corev1.ContainerPort{{Name: "agent", ContainerPort: 9090}}}
	spec := corev1.PodSpec{Containers: []corev1.Container{container("sn", 5101), container("dn", 6101), agentC}}
	if real {
		grace := int64(5)
		spec.ServiceAccountName, spec.TerminationGracePeriodSeconds = "hsds", &grace
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: deploymentName, Namespace: namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       spec,
			},
		},
	}
}

// rbacYAML lets real HSDS pods list the pods of their namespace (deploy/examples/hsds/rbac.yaml).
const rbacYAML = `apiVersion: v1
kind: ServiceAccount
metadata: {name: hsds, namespace: ` + namespace + `}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: hsds-pod-reader, namespace: ` + namespace + `}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: hsds-pod-reader, namespace: ` + namespace + `}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: hsds-pod-reader}
subjects: [{kind: ServiceAccount, name: hsds, namespace: ` + namespace + `}]
`

// createDeployment creates the hsds Deployment (and for real pods first what they need to list the
// pods, rbacYAML).
func createDeployment(ctx context.Context, c *controlplane.Cluster, replicas int, real bool) error {
	if real {
		if _, _, err := c.KubectlInput(ctx, []byte(rbacYAML), "apply", "-f", "-"); err != nil {
			return fmt.Errorf("HSDS's service account and role: %w", err)
		}
	}
	_, err := c.Client.AppsV1().Deployments(namespace).Create(ctx, hsdsDeployment(int32(replicas), real), metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating deployment %s/%s: %w", namespace, deploymentName, err)
	}
	return nil
}

// apiServiceYAML registers custom.metrics.k8s.io (v1beta2 and v1beta1) with the aggregator,
// served by the adapter on the host through an ExternalName Service (docs/e2e.md).
func apiServiceYAML(port int) string {
	svc := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %s, namespace: %s}
spec: {type: ExternalName, externalName: localhost, ports: [{name: https, port: %d}]}
`, serviceName, namespace, port)
	for _, v := range []struct {
		version  string
		priority int
	}{{"v1beta2", 200}, {"v1beta1", 100}} {
		svc += fmt.Sprintf(`---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: %s.custom.metrics.k8s.io}
spec:
  group: custom.metrics.k8s.io
  version: %s
  service: {name: %s, namespace: %s, port: %d}
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: %d
`, v.version, v.version, serviceName, namespace, port, v.priority)
	}
	return svc
}

// registerAPIService applies the Service and APIServices and waits until v1beta2 is Available.
func registerAPIService(ctx context.Context, c *controlplane.Cluster, port int, timeout time.Duration) error {
	if _, _, err := c.KubectlInput(ctx, []byte(apiServiceYAML(port)), "apply", "-f", "-"); err != nil {
		return err
	}
	_, err := c.Kubectl(ctx, "wait", "--for=condition=Available", fmt.Sprintf("--timeout=%s", timeout), "apiservice/v1beta2.custom.metrics.k8s.io")
	return err
}

// customMetricsPath is the custom-metrics API path of metric for the HSDS pods.
func customMetricsPath(metric string) string {
	return fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/pods/*/%s?labelSelector=app%%3Dhsds", namespace, metric)
}
