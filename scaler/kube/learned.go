package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// ConfigMapLearned is a scaler.LearnedStore in one key of a ConfigMap (serve's own namespace,
// --learned-configmap): the key names the target, so one ConfigMap can hold several.
type ConfigMapLearned struct {
	Client          kubernetes.Interface
	Namespace, Name string
	Key             string
}

var _ scaler.LearnedStore = (*ConfigMapLearned)(nil)

// LearnedKey is the ConfigMap key of a target's learned state: namespace.kind.name, lower case
// kind (a valid ConfigMap key: [-._a-zA-Z0-9]+).
func LearnedKey(t scaler.Target) string {
	return fmt.Sprintf("%s.%s.%s", t.Namespace, strings.ToLower(t.Kind), t.Name)
}

// LoadLearned implements scaler.LearnedStore. A missing ConfigMap or key is nothing saved; a
// value that does not decode or validate is an error (and nothing is restored).
func (c *ConfigMapLearned) LoadLearned(ctx context.Context) (heuristics.Learned, bool, error) {
	cm, err := c.Client.CoreV1().ConfigMaps(c.Namespace).Get(ctx, c.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return heuristics.Learned{}, false, nil
	}
	if err != nil {
		return heuristics.Learned{}, false, fmt.Errorf("read ConfigMap %s/%s: %w", c.Namespace, c.Name, err)
	}
	raw, ok := cm.Data[c.Key]
	if !ok {
		return heuristics.Learned{}, false, nil
	}
	var l heuristics.Learned
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		return heuristics.Learned{}, false, fmt.Errorf("ConfigMap %s/%s key %s: %w", c.Namespace, c.Name, c.Key, err)
	}
	if err := l.Validate(); err != nil {
		return heuristics.Learned{}, false, fmt.Errorf("ConfigMap %s/%s key %s: %w", c.Namespace, c.Name, c.Key, err)
	}
	return l, true, nil
}

// SaveLearned implements scaler.LearnedStore: it creates the ConfigMap if needed and sets its key,
// leaving the other keys as they are (retried on a write conflict).
func (c *ConfigMapLearned) SaveLearned(ctx context.Context, l heuristics.Learned) error {
	raw, err := json.Marshal(l)
	if err != nil {
		return err
	}
	cms := c.Client.CoreV1().ConfigMaps(c.Namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := cms.Get(ctx, c.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: c.Name,
				Labels: map[string]string{"app.kubernetes.io/name": "hsds-autoscaler"}},
				Data: map[string]string{c.Key: string(raw)}}
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		cm = cm.DeepCopy()
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[c.Key] = string(raw)
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
}
