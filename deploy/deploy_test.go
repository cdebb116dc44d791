// Package deploy_test renders every Kustomize directory under k8s offline,
// decodes each object strictly into its API type and checks what a
// production fleet depends on; it also checks the Dockerfile, and runs the
// KEDA scaler's queries against a real Postgres as KEDA's role.
package deploy_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/leadorch/lead-orchestrator/internal/config"
)

// secretVars are the settings that are secrets (or hold one, like a
// database URL's password): a manifest may set them only by reference.
var secretVars = []string{
	"LEADORCH_DATABASE_URL", "DATABASE_URL", "LEADORCH_DATABASE_MIGRATE_URL",
	"LEADORCH_TWILIO_AUTH_TOKEN", "LEADORCH_SENDGRID_API_KEY",
	"LEADORCH_RIVERUI_PASSWORD", "LEADORCH_CREDENTIALS_KEYS",
}

// overlays are the fleets an operator applies, each with its migration.
var overlays = []string{"k8s/overlays/prod", "k8s/overlays/dev"}

func TestManifests(t *testing.T) {
	t.Parallel()

	all := renderAll(t)
	for _, dir := range append(slices.Clone(overlays), "k8s/base", "k8s/base/migration", "k8s/examples/cloudnative-pg") {
		require.Contains(t, all, dir, "%s renders", dir)
	}
	for dir, r := range all {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			checkEnvNames(t, r)
			checkNoSecretValues(t, r)
			for _, job := range only[*batchv1.Job](r) {
				checkMigrationJob(t, r.Dir, job)
			}
			if len(only[*appsv1.Deployment](r)) == 0 {
				return
			}
			f := fleetOf(t, r)
			checkDeployment(t, f)
			checkServices(t, f)
			checkDisruptionBudget(t, f)
			checkNetworkPolicy(t, f)
			checkScaling(t, f)
		})
	}
	for _, dir := range overlays {
		t.Run(dir+" release", func(t *testing.T) {
			t.Parallel()
			checkRelease(t, all[dir], all[filepath.Join(dir, "migration")])
		})
	}
	t.Run("prod scales on the queue", func(t *testing.T) {
		t.Parallel()
		f := fleetOf(t, all["k8s/overlays/prod"])
		require.NotNil(t, checkScaling(t, f), "prod scales with KEDA")
		require.Equal(t, "exec", f.Config.Database.QueryExecMode, "prod goes through PgBouncer")
		require.True(t, f.Config.River.PollOnly, "prod goes through PgBouncer")
	})
	t.Run("cloudnative-pg", func(t *testing.T) {
		t.Parallel()
		checkCloudNativePG(t, all["k8s/examples/cloudnative-pg"])
	})
}

// TestEveryComponentIsRendered fails when a component no overlay includes
// (so no test renders) is added under k8s.
func TestEveryComponentIsRendered(t *testing.T) {
	t.Parallel()

	renderable, components := kustomizations(t)
	used := map[string]bool{}
	for _, dir := range renderable {
		raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
		require.NoError(t, err)
		var k struct {
			Components []string `json:"components"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &k))
		for _, c := range k.Components {
			used[filepath.Clean(filepath.Join(dir, c))] = true
		}
	}
	require.NotEmpty(t, components)
	for _, c := range components {
		require.True(t, used[c], "component %s is included by no kustomization, so nothing renders it", c)
	}
}

// checkEnvNames asserts every LEADORCH_* variable a container or ConfigMap
// sets is a key the worker reads: the worker ignores an unknown one, so a
// typo would silently leave the default in place.
func checkEnvNames(t *testing.T, r rendered) {
	t.Helper()
	known := config.EnvVars()
	check := func(where, name string) {
		if strings.HasPrefix(name, "LEADORCH_") || name == "DATABASE_URL" {
			require.Contains(t, known, name, "%s: %s sets %s, which is no config key", r.Dir, where, name)
		}
	}
	for _, cm := range only[*corev1.ConfigMap](r) {
		for name := range cm.Data {
			check("ConfigMap "+cm.Name, name)
			require.NotContains(t, secretVars, name, "%s: secret %s in ConfigMap %s", r.Dir, name, cm.Name)
		}
	}
	for _, spec := range podSpecs(r) {
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			for _, e := range c.Env {
				check("container "+c.Name, e.Name)
				if slices.Contains(secretVars, e.Name) {
					require.Empty(t, e.Value, "%s: %s is a secret: by secretKeyRef only", r.Dir, e.Name)
					require.NotNil(t, e.ValueFrom, r.Dir)
					require.NotNil(t, e.ValueFrom.SecretKeyRef, "%s: %s from a Secret", r.Dir, e.Name)
				}
			}
		}
	}
}

// checkNoSecretValues asserts the repository holds no Secret with values:
// secrets are created in the cluster and referenced by name.
func checkNoSecretValues(t *testing.T, r rendered) {
	t.Helper()
	for _, s := range only[*corev1.Secret](r) {
		require.Empty(t, s.Data, "%s: Secret %s carries data", r.Dir, s.Name)
		require.Empty(t, s.StringData, "%s: Secret %s carries stringData", r.Dir, s.Name)
	}
}

// podSpecs lists the pod templates of a render's workloads.
func podSpecs(r rendered) []corev1.PodSpec {
	var specs []corev1.PodSpec
	for _, d := range only[*appsv1.Deployment](r) {
		specs = append(specs, d.Spec.Template.Spec)
	}
	for _, j := range only[*batchv1.Job](r) {
		specs = append(specs, j.Spec.Template.Spec)
	}
	return specs
}

// checkMigrationJob asserts the Job runs `worker migrate` once as the
// owner role, non-root, and cleans up after itself.
func checkMigrationJob(t *testing.T, dir string, job *batchv1.Job) {
	t.Helper()
	spec := job.Spec.Template.Spec
	require.Len(t, spec.Containers, 1, dir)
	c := spec.Containers[0]
	require.Equal(t, []string{"migrate"}, c.Args, "%s: worker migrate", dir)
	require.Equal(t, corev1.RestartPolicyNever, spec.RestartPolicy, dir)
	require.NotNil(t, job.Spec.BackoffLimit, dir)
	require.NotNil(t, job.Spec.TTLSecondsAfterFinished, dir)
	var migrateURL *corev1.EnvVar
	for i, e := range c.Env {
		require.NotEqual(t, "LEADORCH_DATABASE_URL", e.Name, "%s: the Job has the owner's URL, not the worker's", dir)
		if e.Name == "LEADORCH_DATABASE_MIGRATE_URL" {
			migrateURL = &c.Env[i]
		}
	}
	require.NotNil(t, migrateURL, "%s: LEADORCH_DATABASE_MIGRATE_URL", dir)
	require.Equal(t, "leadorch-migrate", migrateURL.ValueFrom.SecretKeyRef.Name, "%s: the owner's Secret, apart from the fleet's", dir)
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		require.Contains(t, c.Resources.Limits, res, dir)
	}
	checkPrivileges(t, dir, spec, c)
}

// checkRelease asserts an overlay and its migration deploy one image into
// one namespace, and that every namespaced object is in it.
func checkRelease(t *testing.T, fleetRender, migration rendered) {
	t.Helper()
	require.NotEmpty(t, migration.Objects, "%s/migration renders", fleetRender.Dir)
	f := fleetOf(t, fleetRender)
	image := fleetImage(f.Deployment)
	require.Contains(t, image, ":", "%s: the image has a tag", f.Dir)
	require.NotEqual(t, "leadorch-worker", strings.Split(image, ":")[0], "%s: the overlay names a real image", f.Dir)
	jobs := only[*batchv1.Job](migration)
	require.Len(t, jobs, 1, migration.Dir)
	require.Equal(t, image, jobs[0].Spec.Template.Spec.Containers[0].Image, "%s: the migration runs the fleet's image", migration.Dir)
	namespace := f.Deployment.Namespace
	require.NotEmpty(t, namespace, f.Dir)
	for _, r := range []rendered{fleetRender, migration} {
		for _, o := range r.Objects {
			if o.Kind == "Namespace" {
				require.Equal(t, namespace, o.Name, r.Dir)
				continue
			}
			require.Equal(t, namespace, o.Namespace, "%s: %s %s in the release's namespace", r.Dir, o.Kind, o.Name)
		}
	}
}

// checkCloudNativePG asserts the example's Pooler pools the example's
// Cluster in transaction mode, and the Cluster has the roles the README
// names: an owner for migrate, a login role in leadorch_app for the fleet,
// a read-only one for KEDA, all with passwords from Secrets.
func checkCloudNativePG(t *testing.T, r rendered) {
	t.Helper()
	clusters := only[*cnpgCluster](r)
	poolers := only[*cnpgPooler](r)
	require.Len(t, clusters, 1)
	require.Len(t, poolers, 1)
	c, p := clusters[0], poolers[0]
	require.Equal(t, c.Name, p.Spec.Cluster.Name, "the Pooler pools the Cluster")
	require.Equal(t, "rw", p.Spec.Type)
	require.NotNil(t, p.Spec.PgBouncer)
	require.Equal(t, "transaction", p.Spec.PgBouncer.PoolMode)
	require.NotNil(t, c.Spec.Bootstrap)
	require.NotNil(t, c.Spec.Bootstrap.InitDB)
	require.Equal(t, "leadorch", c.Spec.Bootstrap.InitDB.Database)
	require.NotEmpty(t, c.Spec.Bootstrap.InitDB.Owner)
	require.Contains(t, c.Spec.Bootstrap.InitDB.PostInitSQL, "CREATE ROLE leadorch_app NOLOGIN", "leadorch_app before the first migrate")
	require.NotNil(t, c.Spec.Managed)
	roles := map[string]cnpgRole{}
	for _, role := range c.Spec.Managed.Roles {
		roles[role.Name] = role
		require.True(t, role.Login, role.Name)
		require.NotNil(t, role.PasswordSecret, "%s: password from a Secret", role.Name)
		require.False(t, role.Superuser || role.BypassRLS || role.CreateRole, "%s: no power over row-level security", role.Name)
	}
	require.Contains(t, roles, "leadorch_worker")
	require.Equal(t, []string{"leadorch_app"}, roles["leadorch_worker"].InRoles, "the fleet's role is in leadorch_app")
	require.Contains(t, roles, "leadorch_keda")
	require.Empty(t, roles["leadorch_keda"].InRoles, "KEDA's role reads river_job only")
}

// TestStrictDecoderRefuses proves the decoder the checks rely on refuses a
// misspelt field, in an API type and in a CRD mirror, and an unknown kind.
func TestStrictDecoderRefuses(t *testing.T) {
	t.Parallel()

	cases := map[string]string{
		"misspelt Deployment field":   "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\nspec:\n  replcas: 2\n",
		"misspelt probe field":        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\nspec:\n  template:\n    spec:\n      containers:\n        - name: w\n          readinessProbe:\n            httpGet:\n              pth: /readyz\n",
		"misspelt ScaledObject field": "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: w\nspec:\n  scaleTargetRef:\n    name: w\n  maxReplicas: 3\n  triggers: []\n",
		"misspelt Pooler field":       "apiVersion: postgresql.cnpg.io/v1\nkind: Pooler\nmetadata:\n  name: p\nspec:\n  cluster:\n    name: c\n  pgbouncer:\n    pool_mode: transaction\n",
		"duplicate field":             "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  name: t\n",
		"unknown kind":                "apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata:\n  name: j\n",
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeDocuments([]byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n---\n" + doc))
			require.Error(t, err)
		})
	}
	t.Run("the same documents spelt right", func(t *testing.T) {
		t.Parallel()
		objects, err := decodeDocuments([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\nspec:\n  replicas: 2\n---\n" +
			"apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: w\nspec:\n  scaleTargetRef:\n    name: w\n  maxReplicaCount: 3\n  triggers: []\n"))
		require.NoError(t, err)
		require.Len(t, objects, 2)
		require.Equal(t, int32(3), *objects[1].Value.(*kedaScaledObject).Spec.MaxReplicaCount)
	})
}
