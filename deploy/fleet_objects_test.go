package deploy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkServices asserts the webhooks Service maps 80 to the public
// listener and the metrics Service 9464 to the operator listener, each
// selecting the worker's pods.
func checkServices(t *testing.T, f fleet) {
	t.Helper()
	want := map[string]struct{ port, target int32 }{
		"leadorch-webhooks": {80, addrPort(t, f.Config.HTTP.Addr)},
		"leadorch-metrics":  {9464, addrPort(t, f.Config.Operator.Addr)},
	}
	found := map[string]bool{}
	for _, s := range only[*corev1.Service](f.rendered) {
		w, ok := want[s.Name]
		if !ok {
			continue
		}
		found[s.Name] = true
		require.True(t, labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(f.Deployment.Spec.Template.Labels)),
			"%s: Service %s selects the worker's pods", f.Dir, s.Name)
		require.Equal(t, corev1.ServiceTypeClusterIP, s.Spec.Type, "%s: %s stays inside the cluster", f.Dir, s.Name)
		require.Len(t, s.Spec.Ports, 1, f.Dir)
		require.Equal(t, w.port, s.Spec.Ports[0].Port, "%s: %s port", f.Dir, s.Name)
		require.Equal(t, w.target, containerPort(t, f.Worker, s.Spec.Ports[0].TargetPort), "%s: %s target", f.Dir, s.Name)
	}
	require.Len(t, found, 2, "%s: both Services", f.Dir)
}

// checkDisruptionBudget asserts one PDB selects the worker's pods and lets
// one go at a time.
func checkDisruptionBudget(t *testing.T, f fleet) {
	t.Helper()
	pdbs := only[*policyv1.PodDisruptionBudget](f.rendered)
	require.Len(t, pdbs, 1, f.Dir)
	require.True(t, selects(t, pdbs[0].Spec.Selector, f.Deployment.Spec.Template.Labels), "%s: the PDB selects the worker's pods", f.Dir)
	require.Nil(t, pdbs[0].Spec.MinAvailable, f.Dir)
	require.Equal(t, intstr.FromInt32(1), *pdbs[0].Spec.MaxUnavailable, f.Dir)
}

// checkNetworkPolicy asserts the operator port is reachable only from the
// monitoring namespace, no ingress rule opens every port, and egress
// allows DNS, Postgres and HTTPS.
func checkNetworkPolicy(t *testing.T, f fleet) {
	t.Helper()
	var policy *networkingv1.NetworkPolicy
	for _, p := range only[*networkingv1.NetworkPolicy](f.rendered) {
		if selects(t, &p.Spec.PodSelector, f.Deployment.Spec.Template.Labels) {
			require.Nil(t, policy, "%s: one NetworkPolicy for the worker", f.Dir)
			policy = p
		}
	}
	require.NotNil(t, policy, "%s: a NetworkPolicy selects the worker", f.Dir)
	require.ElementsMatch(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, policy.Spec.PolicyTypes, f.Dir)
	operator := addrPort(t, f.Config.Operator.Addr)
	public := addrPort(t, f.Config.HTTP.Addr)
	publicOpen, operatorOpen := false, false
	for _, rule := range policy.Spec.Ingress {
		require.NotEmpty(t, rule.Ports, "%s: an ingress rule without ports opens every port", f.Dir)
		for _, p := range rule.Ports {
			switch containerPort(t, f.Worker, *p.Port) {
			case public:
				publicOpen = true
			case operator:
				operatorOpen = true
				require.NotEmpty(t, rule.From, "%s: the operator port is not open to all", f.Dir)
				for _, peer := range rule.From {
					require.Nil(t, peer.IPBlock, f.Dir)
					require.Nil(t, peer.PodSelector, f.Dir)
					require.NotNil(t, peer.NamespaceSelector, f.Dir)
					require.Equal(t, map[string]string{"kubernetes.io/metadata.name": "monitoring"}, peer.NamespaceSelector.MatchLabels,
						"%s: the operator port only from the monitoring namespace", f.Dir)
				}
			default:
				require.Failf(t, "unexpected port", "%s: ingress to port %s", f.Dir, p.Port.String())
			}
		}
	}
	require.True(t, publicOpen && operatorOpen, "%s: ingress rules for both listeners", f.Dir)
	var egress []int32
	for _, rule := range policy.Spec.Egress {
		require.NotEmpty(t, rule.Ports, "%s: an egress rule without ports opens every port", f.Dir)
		for _, p := range rule.Ports {
			egress = append(egress, p.Port.IntVal)
		}
	}
	for _, port := range []int32{53, 5432, 443} {
		require.Contains(t, egress, port, "%s: egress to port %d", f.Dir, port)
	}
}

// checkScaling asserts at most one autoscaler per Deployment, that it
// names this Deployment, and that the Deployment then leaves its replica
// count to it.
func checkScaling(t *testing.T, f fleet) (keda *kedaScaledObject) {
	t.Helper()
	hpas := only[*autoscalingv2.HorizontalPodAutoscaler](f.rendered)
	scaled := only[*kedaScaledObject](f.rendered)
	require.LessOrEqual(t, len(hpas)+len(scaled), 1, "%s: one autoscaler at most: KEDA's own HPA and another would fight", f.Dir)
	for _, h := range hpas {
		require.Equal(t, "Deployment", h.Spec.ScaleTargetRef.Kind, f.Dir)
		require.Equal(t, f.Deployment.Name, h.Spec.ScaleTargetRef.Name, "%s: the HPA scales the worker", f.Dir)
		require.NotNil(t, h.Spec.MinReplicas, f.Dir)
		require.LessOrEqual(t, *h.Spec.MinReplicas, h.Spec.MaxReplicas, f.Dir)
		require.NotEmpty(t, h.Spec.Metrics, f.Dir)
		require.Equal(t, corev1.ResourceCPU, h.Spec.Metrics[0].Resource.Name, "%s: the fallback scales on CPU", f.Dir)
	}
	for _, s := range scaled {
		checkScaledObject(t, f, s)
		keda = s
	}
	if len(hpas)+len(scaled) == 1 {
		require.Nil(t, f.Deployment.Spec.Replicas, "%s: an autoscaled Deployment sets no replicas (an apply would reset them)", f.Dir)
	} else {
		require.NotNil(t, f.Deployment.Spec.Replicas, f.Dir)
		require.GreaterOrEqual(t, *f.Deployment.Spec.Replicas, int32(2), "%s: two replicas at least", f.Dir)
	}
	return keda
}

// checkScaledObject asserts the KEDA object targets the worker, scales on
// the sms queue's age and depth through a TriggerAuthentication of the
// same render, and falls back to CPU.
func checkScaledObject(t *testing.T, f fleet, s *kedaScaledObject) {
	t.Helper()
	require.NotNil(t, s.Spec.ScaleTargetRef, f.Dir)
	require.Equal(t, "Deployment", s.Spec.ScaleTargetRef.Kind, f.Dir)
	require.Equal(t, f.Deployment.Name, s.Spec.ScaleTargetRef.Name, "%s: KEDA scales the worker", f.Dir)
	require.Equal(t, f.Deployment.Namespace, s.Namespace, "%s: KEDA scales in the Deployment's namespace", f.Dir)
	require.NotNil(t, s.Spec.MinReplicaCount, f.Dir)
	require.NotNil(t, s.Spec.MaxReplicaCount, f.Dir)
	require.GreaterOrEqual(t, *s.Spec.MinReplicaCount, int32(2), "%s: never below two replicas", f.Dir)
	require.Less(t, *s.Spec.MinReplicaCount, *s.Spec.MaxReplicaCount, f.Dir)
	require.NotNil(t, s.Spec.CooldownPeriod, f.Dir)
	auths := map[string]*kedaTriggerAuthentication{}
	for _, a := range only[*kedaTriggerAuthentication](f.rendered) {
		auths[a.Name] = a
	}
	var types []string
	for _, trig := range s.Spec.Triggers {
		types = append(types, trig.Type)
		if trig.Type != "postgresql" {
			continue
		}
		q := trig.Metadata["query"]
		require.Contains(t, q, "queue = 'sms'", "%s: trigger %s reads the sms queue", f.Dir, trig.Name)
		require.Contains(t, q, "state = 'available'", f.Dir)
		require.True(t, strings.Contains(q, "COALESCE(") || strings.HasPrefix(q, "SELECT count(*)"),
			"%s: trigger %s gives a number even with no rows", f.Dir, trig.Name)
		require.NotEmpty(t, trig.Metadata["targetQueryValue"], f.Dir)
		require.NotContains(t, trig.Metadata, "connection", "%s: the connection only through the TriggerAuthentication", f.Dir)
		require.NotContains(t, trig.Metadata, "password", f.Dir)
		require.NotNil(t, trig.AuthenticationRef, f.Dir)
		auth, ok := auths[trig.AuthenticationRef.Name]
		require.True(t, ok, "%s: TriggerAuthentication %s is in the render", f.Dir, trig.AuthenticationRef.Name)
		require.Equal(t, []kedaAuthTargetRef{{Parameter: "connection", Name: "leadorch-keda", Key: "connection"}}, auth.Spec.SecretTargetRef, f.Dir)
	}
	require.Equal(t, 2, strings.Count(strings.Join(types, " "), "postgresql"), "%s: age and depth triggers", f.Dir)
	require.True(t, slices.Contains(types, "cpu"), "%s: a cpu trigger as the fallback", f.Dir)
}

// fleetImage is the worker's image, which an overlay must have set.
func fleetImage(d *appsv1.Deployment) string { return d.Spec.Template.Spec.Containers[0].Image }
