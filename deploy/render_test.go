package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// k8sRoot holds every kustomization this package renders.
const k8sRoot = "k8s"

// object is one rendered document: its identity and the typed value it was
// strictly decoded into.
type object struct {
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	Value      any
}

// rendered is everything one kustomization renders to, by kind.
type rendered struct {
	Dir     string
	Objects []object
}

// newObject returns an empty value of the Go type for an apiVersion and
// kind: the Kubernetes API types for built-in kinds, this package's mirrors
// of the published CRD schemas (crd_types_test.go) for the rest. A kind
// not listed is an error, so a new manifest cannot slip past the decoder.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + "/" + kind {
	case "v1/Namespace":
		return &corev1.Namespace{}, nil
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "batch/v1/Job":
		return &batchv1.Job{}, nil
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}, nil
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "keda.sh/v1alpha1/ScaledObject":
		return &kedaScaledObject{}, nil
	case "keda.sh/v1alpha1/TriggerAuthentication":
		return &kedaTriggerAuthentication{}, nil
	case "postgresql.cnpg.io/v1/Cluster":
		return &cnpgCluster{}, nil
	case "postgresql.cnpg.io/v1/Pooler":
		return &cnpgPooler{}, nil
	}
	return nil, fmt.Errorf("unknown kind %s %s: add its type to newObject", apiVersion, kind)
}

// decodeDocuments splits a multi-document YAML stream and decodes each
// document strictly into its type: an unknown or duplicate field is an
// error naming the object.
func decodeDocuments(stream []byte) ([]object, error) {
	reader := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var objects []object
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objects, nil
		}
		if err != nil {
			return nil, fmt.Errorf("error splitting documents: %w", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var head struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("error reading a document's kind: %w", err)
		}
		value, err := newObject(head.APIVersion, head.Kind)
		if err != nil {
			return nil, err
		}
		if err := yaml.UnmarshalStrict(doc, value); err != nil {
			return nil, fmt.Errorf("error decoding %s %s strictly: %w", head.Kind, head.Metadata.Name, err)
		}
		objects = append(objects, object{
			APIVersion: head.APIVersion, Kind: head.Kind,
			Name: head.Metadata.Name, Namespace: head.Metadata.Namespace, Value: value,
		})
	}
}

// render builds one kustomization offline, as `kubectl apply -k` would,
// and decodes what it gives.
func render(t *testing.T, dir string) rendered {
	t.Helper()
	kustomizer := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := kustomizer.Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err, "rendering %s", dir)
	stream, err := resources.AsYaml()
	require.NoError(t, err, "rendering %s as YAML", dir)
	objects, err := decodeDocuments(stream)
	require.NoError(t, err, "decoding %s", dir)
	require.NotEmpty(t, objects, "%s renders nothing", dir)
	return rendered{Dir: dir, Objects: objects}
}

// kustomizations lists every directory under k8s with a kustomization.yaml,
// split into those that render (kind Kustomization) and components (kind
// Component, rendered only through an overlay).
func kustomizations(t *testing.T) (renderable, components []string) {
	t.Helper()
	err := filepath.WalkDir(k8sRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "kustomization.yaml" {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var head metav1.TypeMeta
		if err := yaml.Unmarshal(raw, &head); err != nil {
			return fmt.Errorf("error reading %s: %w", path, err)
		}
		dir := filepath.Dir(path)
		switch head.Kind {
		case "Kustomization":
			renderable = append(renderable, dir)
		case "Component":
			components = append(components, dir)
		default:
			return fmt.Errorf("%s: kind %q is neither Kustomization nor Component", path, head.Kind)
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(renderable)
	sort.Strings(components)
	return renderable, components
}

// renderAll renders every kustomization under k8s.
func renderAll(t *testing.T) map[string]rendered {
	t.Helper()
	dirs, _ := kustomizations(t)
	all := make(map[string]rendered, len(dirs))
	for _, dir := range dirs {
		all[dir] = render(t, dir)
	}
	return all
}

// only returns the objects of one kind, as their Go type.
func only[T any](r rendered) []T {
	var out []T
	for _, o := range r.Objects {
		if v, ok := o.Value.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
