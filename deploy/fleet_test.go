package deploy_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/leadorch/lead-orchestrator/internal/config"
)

// hardStopSeconds is the worker's fixed wait after its soft stop for River
// to cancel and hand back the jobs still running (cmd/worker stopInOrder).
const hardStopSeconds = 10

// fleet is what a rendered fleet (base or overlay) holds around its one
// Deployment.
type fleet struct {
	rendered
	Deployment *appsv1.Deployment
	Worker     corev1.Container
	ConfigMap  *corev1.ConfigMap
	Config     *config.Config
}

// fleetOf finds the Deployment of a render and loads the worker's
// configuration the way the worker will: its ConfigMap and literal env
// values as the environment (secrets stand in as placeholders), validated
// by config.Load.
func fleetOf(t *testing.T, r rendered) fleet {
	t.Helper()
	deployments := only[*appsv1.Deployment](r)
	require.Len(t, deployments, 1, "%s: one Deployment", r.Dir)
	d := deployments[0]
	require.Len(t, d.Spec.Template.Spec.Containers, 1, "%s: one container", r.Dir)
	f := fleet{rendered: r, Deployment: d, Worker: d.Spec.Template.Spec.Containers[0]}
	env := map[string]string{}
	for _, from := range f.Worker.EnvFrom {
		require.NotNil(t, from.ConfigMapRef, "%s: envFrom only from ConfigMaps (secrets one by one)", r.Dir)
		for _, cm := range only[*corev1.ConfigMap](r) {
			if cm.Name == from.ConfigMapRef.Name {
				f.ConfigMap = cm
			}
		}
		require.NotNil(t, f.ConfigMap, "%s: envFrom names ConfigMap %s, which the render lacks", r.Dir, from.ConfigMapRef.Name)
		for k, v := range f.ConfigMap.Data {
			env[k] = v
		}
	}
	for _, e := range f.Worker.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	cfg, err := config.Load("", func(name string) string { return env[name] })
	require.NoError(t, err, "%s: the worker's settings are valid config", r.Dir)
	f.Config = cfg
	return f
}

// addrPort is the port of a listen address such as ":9464".
func addrPort(t *testing.T, addr string) int32 {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	return int32(n)
}

// containerPort resolves a probe's or Service's port (a number or a name)
// to the worker's container port number.
func containerPort(t *testing.T, c corev1.Container, port intstr.IntOrString) int32 {
	t.Helper()
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort
		}
	}
	require.Failf(t, "unknown port name", "container %s has no port named %q", c.Name, port.StrVal)
	return 0
}

// selects reports whether a label selector picks the pods of a template.
func selects(t *testing.T, selector *metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	require.NotNil(t, selector)
	s, err := metav1.LabelSelectorAsSelector(selector)
	require.NoError(t, err)
	return !s.Empty() && s.Matches(labels.Set(podLabels))
}

func seconds(d interface{ Seconds() float64 }) int64 { return int64(d.Seconds()) }

// checkDeployment asserts what keeps a replica's stop, probes and privileges
// right.
func checkDeployment(t *testing.T, f fleet) {
	t.Helper()
	d, w, cfg := f.Deployment, f.Worker, f.Config
	pod := d.Spec.Template
	require.True(t, selects(t, d.Spec.Selector, pod.Labels), "%s: the Deployment's selector matches its pods", f.Dir)
	require.Equal(t, []string{"run"}, w.Args, "%s: worker run", f.Dir)

	httpPort := addrPort(t, cfg.HTTP.Addr)
	require.Equal(t, int32(8080), httpPort, "%s: http.addr", f.Dir)
	require.Equal(t, int32(9464), addrPort(t, cfg.Operator.Addr), "%s: operator.addr leaves loopback on 9464", f.Dir)
	require.NotEqual(t, "127.0.0.1", strings.Split(cfg.Operator.Addr, ":")[0], "%s: operator.addr must not be loopback in a pod", f.Dir)

	for name, probe := range map[string]*corev1.Probe{"readiness": w.ReadinessProbe, "liveness": w.LivenessProbe} {
		require.NotNil(t, probe, "%s: %s probe", f.Dir, name)
		require.NotNil(t, probe.HTTPGet, "%s: %s probe is HTTP", f.Dir, name)
		require.Equal(t, httpPort, containerPort(t, w, probe.HTTPGet.Port), "%s: %s probe on the public port", f.Dir, name)
		require.GreaterOrEqual(t, probe.FailureThreshold, int32(2), "%s: %s probe tolerates one miss", f.Dir, name)
		require.Positive(t, probe.TimeoutSeconds, "%s: %s probe timeout", f.Dir, name)
	}
	require.Equal(t, "/readyz", w.ReadinessProbe.HTTPGet.Path, f.Dir)
	require.Equal(t, "/healthz", w.LivenessProbe.HTTPGet.Path, f.Dir)
	// Liveness must be slower to give up than readiness: a replica that
	// cannot reach Postgres goes unready, it is not restarted.
	require.Greater(t, w.LivenessProbe.PeriodSeconds*w.LivenessProbe.FailureThreshold,
		w.ReadinessProbe.PeriodSeconds*w.ReadinessProbe.FailureThreshold, f.Dir)

	require.NotNil(t, w.Lifecycle, "%s: preStop", f.Dir)
	require.NotNil(t, w.Lifecycle.PreStop, "%s: preStop", f.Dir)
	require.Nil(t, w.Lifecycle.PreStop.Exec, "%s: no exec preStop: the image has no shell", f.Dir)
	require.NotNil(t, w.Lifecycle.PreStop.Sleep, "%s: preStop sleep action", f.Dir)
	preStop := w.Lifecycle.PreStop.Sleep.Seconds
	require.Equal(t, seconds(cfg.HTTP.DrainDelay), preStop, "%s: preStop sleep equals http.drain_delay", f.Dir)
	need := preStop + seconds(cfg.HTTP.DrainDelay) + seconds(cfg.HTTP.ShutdownTimeout) + seconds(cfg.River.SoftStopTimeout) + hardStopSeconds
	require.NotNil(t, pod.Spec.TerminationGracePeriodSeconds, f.Dir)
	require.GreaterOrEqual(t, *pod.Spec.TerminationGracePeriodSeconds, need,
		"%s: grace period covers preStop + drain + shutdown + soft stop + hard stop", f.Dir)

	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := w.Resources.Requests[res]
		limit, hasLimit := w.Resources.Limits[res]
		require.True(t, hasReq && hasLimit, "%s: %s request and limit", f.Dir, res)
		require.LessOrEqual(t, req.Cmp(limit), 0, "%s: %s request within limit", f.Dir, res)
	}
	checkGoMemLimit(t, f)
	checkPrivileges(t, f.Dir, pod.Spec, w)
	checkSpread(t, f)
	require.NotNil(t, pod.Spec.EnableServiceLinks, f.Dir)
	require.False(t, *pod.Spec.EnableServiceLinks, "%s: no service-link variables", f.Dir)
}

// checkGoMemLimit asserts the Go runtime's soft limit sits below the
// container's memory limit, where the kernel would kill the replica.
func checkGoMemLimit(t *testing.T, f fleet) {
	t.Helper()
	for _, e := range f.Worker.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		limit := resource.MustParse(strings.TrimSuffix(e.Value, "B"))
		memory := f.Worker.Resources.Limits[corev1.ResourceMemory]
		require.Negative(t, limit.Cmp(memory), "%s: GOMEMLIMIT %s below the memory limit %s", f.Dir, e.Value, memory.String())
		return
	}
	require.Fail(t, "GOMEMLIMIT unset", f.Dir)
}

// checkPrivileges asserts a pod runs non-root, read-only, without
// capabilities or a Kubernetes token.
func checkPrivileges(t *testing.T, dir string, spec corev1.PodSpec, c corev1.Container) {
	t.Helper()
	psc := spec.SecurityContext
	require.NotNil(t, psc, dir)
	require.NotNil(t, psc.RunAsNonRoot, dir)
	require.True(t, *psc.RunAsNonRoot, "%s: runAsNonRoot", dir)
	require.NotNil(t, psc.RunAsUser, dir)
	require.NotZero(t, *psc.RunAsUser, "%s: a numeric non-root uid", dir)
	require.NotNil(t, psc.SeccompProfile, dir)
	require.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type, dir)
	csc := c.SecurityContext
	require.NotNil(t, csc, dir)
	require.NotNil(t, csc.ReadOnlyRootFilesystem, dir)
	require.True(t, *csc.ReadOnlyRootFilesystem, "%s: read-only root", dir)
	require.NotNil(t, csc.AllowPrivilegeEscalation, dir)
	require.False(t, *csc.AllowPrivilegeEscalation, dir)
	require.NotNil(t, csc.Capabilities, dir)
	require.Equal(t, []corev1.Capability{"ALL"}, csc.Capabilities.Drop, "%s: every capability dropped", dir)
	require.NotNil(t, spec.AutomountServiceAccountToken, dir)
	require.False(t, *spec.AutomountServiceAccountToken, "%s: no service account token", dir)
}

// checkSpread asserts the replicas spread across nodes and zones.
func checkSpread(t *testing.T, f fleet) {
	t.Helper()
	keys := map[string]bool{}
	for _, c := range f.Deployment.Spec.Template.Spec.TopologySpreadConstraints {
		require.True(t, selects(t, c.LabelSelector, f.Deployment.Spec.Template.Labels), "%s: spread %s counts the worker's pods", f.Dir, c.TopologyKey)
		keys[c.TopologyKey] = true
	}
	require.True(t, keys["kubernetes.io/hostname"], "%s: spread across nodes", f.Dir)
	require.True(t, keys["topology.kubernetes.io/zone"], "%s: spread across zones", f.Dir)
}
