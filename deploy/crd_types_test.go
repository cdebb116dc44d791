package deploy_test

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The custom resources deploy/ uses, mirrored from their published schemas
// with only the fields used here, so that strict decoding refuses a field
// the operator would refuse. Adding a field to a manifest means adding it
// here, checked against the schema named on the type.

// kedaScaledObject is keda.sh/v1alpha1 ScaledObject as KEDA v2.20 publishes
// it (kedacore/keda apis/keda/v1alpha1/scaledobject_types.go,
// scaletriggers_types.go; CRD keda.sh_scaledobjects.yaml).
type kedaScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              kedaScaledObjectSpec `json:"spec"`
}

type kedaScaledObjectSpec struct {
	ScaleTargetRef   *kedaScaleTarget    `json:"scaleTargetRef"`
	PollingInterval  *int32              `json:"pollingInterval,omitempty"`
	CooldownPeriod   *int32              `json:"cooldownPeriod,omitempty"`
	MinReplicaCount  *int32              `json:"minReplicaCount,omitempty"`
	MaxReplicaCount  *int32              `json:"maxReplicaCount,omitempty"`
	Advanced         *kedaAdvancedConfig `json:"advanced,omitempty"`
	Triggers         []kedaScaleTrigger  `json:"triggers"`
	Fallback         *kedaFallback       `json:"fallback,omitempty"`
	IdleReplicaCount *int32              `json:"idleReplicaCount,omitempty"`
}

type kedaScaleTarget struct {
	Name                   string `json:"name"`
	APIVersion             string `json:"apiVersion,omitempty"`
	Kind                   string `json:"kind,omitempty"`
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
}

type kedaAdvancedConfig struct {
	HorizontalPodAutoscalerConfig *kedaHPAConfig `json:"horizontalPodAutoscalerConfig,omitempty"`
}

type kedaHPAConfig struct {
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
	Name     string                                         `json:"name,omitempty"`
}

type kedaFallback struct {
	FailureThreshold int32  `json:"failureThreshold"`
	Replicas         int32  `json:"replicas"`
	Behavior         string `json:"behavior,omitempty"`
}

type kedaScaleTrigger struct {
	Type              string                         `json:"type"`
	Name              string                         `json:"name,omitempty"`
	UseCachedMetrics  bool                           `json:"useCachedMetrics,omitempty"`
	Metadata          map[string]string              `json:"metadata"`
	AuthenticationRef *kedaAuthenticationRef         `json:"authenticationRef,omitempty"`
	MetricType        autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

type kedaAuthenticationRef struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
}

// kedaTriggerAuthentication is keda.sh/v1alpha1 TriggerAuthentication as
// KEDA v2.20 publishes it (apis/keda/v1alpha1/triggerauthentication_types.go).
type kedaTriggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		SecretTargetRef []kedaAuthTargetRef `json:"secretTargetRef,omitempty"`
	} `json:"spec"`
}

type kedaAuthTargetRef struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

// cnpgCluster is postgresql.cnpg.io/v1 Cluster as CloudNativePG 1.30
// publishes it (cloudnative-pg api/v1/cluster_types.go; CRD
// postgresql.cnpg.io_clusters.yaml).
type cnpgCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              cnpgClusterSpec `json:"spec"`
}

type cnpgClusterSpec struct {
	Instances             int                         `json:"instances"`
	ImageName             string                      `json:"imageName,omitempty"`
	EnableSuperuserAccess *bool                       `json:"enableSuperuserAccess,omitempty"`
	Storage               cnpgStorage                 `json:"storage,omitempty"`
	Resources             corev1.ResourceRequirements `json:"resources,omitempty"`
	PostgreSQL            cnpgPostgresConfiguration   `json:"postgresql,omitempty"`
	Bootstrap             *cnpgBootstrap              `json:"bootstrap,omitempty"`
	Managed               *cnpgManaged                `json:"managed,omitempty"`
}

type cnpgStorage struct {
	StorageClass *string `json:"storageClass,omitempty"`
	Size         string  `json:"size,omitempty"`
}

type cnpgPostgresConfiguration struct {
	Parameters map[string]string `json:"parameters,omitempty"`
	PgHBA      []string          `json:"pg_hba,omitempty"`
}

type cnpgBootstrap struct {
	InitDB *cnpgInitDB `json:"initdb,omitempty"`
}

type cnpgInitDB struct {
	Database               string              `json:"database,omitempty"`
	Owner                  string              `json:"owner,omitempty"`
	Secret                 *cnpgLocalObjectRef `json:"secret,omitempty"`
	PostInitSQL            []string            `json:"postInitSQL,omitempty"`
	PostInitApplicationSQL []string            `json:"postInitApplicationSQL,omitempty"`
}

type cnpgLocalObjectRef struct {
	Name string `json:"name"`
}

type cnpgManaged struct {
	Roles []cnpgRole `json:"roles,omitempty"`
}

type cnpgRole struct {
	Name            string              `json:"name"`
	Comment         string              `json:"comment,omitempty"`
	Ensure          string              `json:"ensure,omitempty"`
	PasswordSecret  *cnpgLocalObjectRef `json:"passwordSecret,omitempty"`
	ConnectionLimit int64               `json:"connectionLimit,omitempty"`
	InRoles         []string            `json:"inRoles,omitempty"`
	Inherit         *bool               `json:"inherit,omitempty"`
	Superuser       bool                `json:"superuser,omitempty"`
	CreateDB        bool                `json:"createdb,omitempty"`
	CreateRole      bool                `json:"createrole,omitempty"`
	Login           bool                `json:"login,omitempty"`
	BypassRLS       bool                `json:"bypassrls,omitempty"`
}

// cnpgPooler is postgresql.cnpg.io/v1 Pooler as CloudNativePG 1.30
// publishes it (api/v1/pooler_types.go; CRD postgresql.cnpg.io_poolers.yaml).
type cnpgPooler struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Cluster   cnpgLocalObjectRef `json:"cluster"`
		Type      string             `json:"type,omitempty"`
		Instances *int32             `json:"instances,omitempty"`
		PgBouncer *struct {
			PoolMode   string            `json:"poolMode,omitempty"`
			Parameters map[string]string `json:"parameters,omitempty"`
		} `json:"pgbouncer"`
	} `json:"spec"`
}
