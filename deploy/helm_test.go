package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"tokenauthority/daemon"
)

const chart = "helm/tokenauthority"

// chartCases are the value sets the chart is linted and rendered with.
var chartCases = []struct {
	name   string
	values []string // -f files, relative to the chart
	store  string
}{
	{"bbolt defaults", nil, "bbolt"},
	{"bbolt all objects", []string{"ci/bbolt-values.yaml"}, "bbolt"},
	{"etcd all objects", []string{"ci/etcd-values.yaml"}, "etcd"},
}

func helmArgs(values []string, args ...string) []string {
	for _, v := range values {
		args = append(args, "-f", chart+"/"+v)
	}
	return args
}

func TestHelmLint(t *testing.T) {
	t.Parallel()
	for _, tc := range chartCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(helm, helmArgs(tc.values, "lint", "--strict", chart)...).CombinedOutput()
			if err != nil {
				t.Errorf("helm lint --strict: %v\n%s", err, out)
			}
		})
	}
}

// TestHelmTemplateRefuses: misspelt values and values that would give a
// server that cannot start fail at render time with a message naming the
// value (values.schema.json, then the chart's own checks).
func TestHelmTemplateRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		set  []string
		want string
	}{
		{[]string{"store=sqlite"}, `at '/store': value must be one of 'bbolt', 'etcd'`}, // values.schema.json
		{[]string{"persistence.sise=5Gi"}, `additional properties 'sise' not allowed`},
		{[]string{"store=etcd", "masterKey.existingSecret=k", "credentials.existingSecret=c"}, "store etcd needs etcd.endpoints"},
		{[]string{"store=etcd", "etcd.endpoints={https://e:2379}", "credentials.existingSecret=c"}, "needs masterKey.existingSecret"},
		{[]string{"store=etcd", "etcd.endpoints={https://e:2379}", "masterKey.existingSecret=k"}, "needs credentials.existingSecret"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			args := []string{"template", "t", chart}
			for _, s := range tt.set {
				args = append(args, "--set", s)
			}
			out, err := exec.Command(helm, args...).CombinedOutput()
			if err == nil || !bytes.Contains(out, []byte(tt.want)) {
				t.Errorf("helm %v: err %v; want a failure saying %q:\n%s", args, err, tt.want, out)
			}
		})
	}
}

// rendered is the chart's output for one case, every object decoded
// strictly into its Kubernetes API type.
type rendered struct {
	objects      []any
	statefulSets []*appsv1.StatefulSet
	deployments  []*appsv1.Deployment
	kinds        []string
}

func render(t *testing.T, values []string) rendered {
	t.Helper()
	cmd := exec.Command(helm, helmArgs(values, "template", "t", chart, "--namespace", "hub")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.Bytes())
	}
	var r rendered
	for _, doc := range strings.Split(string(out), "\n---\n") {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		if string(js) == "null" {
			continue
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(js, &tm); err != nil {
			t.Fatal(err)
		}
		obj, err := decodeStrict(tm, js)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", tm.APIVersion, tm.Kind, err, doc)
		}
		r.objects = append(r.objects, obj)
		r.kinds = append(r.kinds, tm.Kind)
		switch o := obj.(type) {
		case *appsv1.StatefulSet:
			r.statefulSets = append(r.statefulSets, o)
		case *appsv1.Deployment:
			r.deployments = append(r.deployments, o)
		}
	}
	return r
}

// decodeStrict decodes one object into the Go type of its apiVersion and
// kind, refusing fields the type does not have.
func decodeStrict(tm metav1.TypeMeta, js []byte) (any, error) {
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Service":
		obj = &corev1.Service{}
	case "v1 ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "apps/v1 StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "apps/v1 Deployment":
		obj = &appsv1.Deployment{}
	case "policy/v1 PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1 NetworkPolicy":
		obj = &networkingv1.NetworkPolicy{}
	case "networking.k8s.io/v1 Ingress":
		obj = &networkingv1.Ingress{}
	case "monitoring.coreos.com/v1 ServiceMonitor":
		obj = &serviceMonitor{}
	default:
		return nil, fmt.Errorf("no Go type for this kind; add one to decodeStrict")
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the object")
	}
	return obj, nil
}

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1, a CRD with no type in k8s.io/api) that the
// chart uses, with the field names of its API reference: any other field
// fails the strict decode.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

func TestHelmTemplate(t *testing.T) {
	t.Parallel()
	for _, tc := range chartCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := render(t, tc.values)
			var pod corev1.PodTemplateSpec
			switch tc.store {
			case "bbolt":
				if len(r.statefulSets) != 1 || len(r.deployments) != 0 {
					t.Fatalf("bbolt mode rendered %d StatefulSets, %d Deployments; want 1, 0", len(r.statefulSets), len(r.deployments))
				}
				ss := r.statefulSets[0]
				if ss.Spec.Replicas == nil || *ss.Spec.Replicas != 1 {
					t.Errorf("bbolt StatefulSet replicas = %v; want 1", ss.Spec.Replicas)
				}
				if len(ss.Spec.VolumeClaimTemplates) != 1 || ss.Spec.VolumeClaimTemplates[0].Name != "data" {
					t.Errorf("bbolt StatefulSet volume claims = %v; want one named data", ss.Spec.VolumeClaimTemplates)
				}
				pod = ss.Spec.Template
			case "etcd":
				if len(r.statefulSets) != 0 || len(r.deployments) != 1 {
					t.Fatalf("etcd mode rendered %d StatefulSets, %d Deployments; want 0, 1", len(r.statefulSets), len(r.deployments))
				}
				d := r.deployments[0]
				if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
					t.Errorf("etcd Deployment replicas = %v; want 3 (ci/etcd-values.yaml)", d.Spec.Replicas)
				}
				for _, v := range d.Spec.Template.Spec.Volumes {
					if v.PersistentVolumeClaim != nil {
						t.Errorf("etcd mode mounts a PersistentVolumeClaim (volume %s)", v.Name)
					}
				}
				if slices.Contains(r.kinds, "PersistentVolumeClaim") {
					t.Error("etcd mode renders a PersistentVolumeClaim")
				}
				pod = d.Spec.Template
			}
			checkPod(t, pod)
			if len(tc.values) > 0 {
				for _, kind := range []string{"ServiceMonitor", "NetworkPolicy", "PodDisruptionBudget", "Ingress"} {
					if !slices.Contains(r.kinds, kind) {
						t.Errorf("all optional objects on, but no %s rendered (kinds %v)", kind, r.kinds)
					}
				}
			}
			services := 0
			for _, o := range r.objects {
				if s, ok := o.(*corev1.Service); ok && s.Spec.ClusterIP != "None" {
					services++
				}
			}
			if services != 2 {
				t.Errorf("%d Services besides the headless one; want 2 (gRPC, HTTP)", services)
			}
		})
	}
}

// checkPod holds the pod template to the hardening and probes of the chart,
// and its arguments and environment to the server's own flag parser.
func checkPod(t *testing.T, pod corev1.PodTemplateSpec) {
	t.Helper()
	psc := pod.Spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext = %+v; want runAsNonRoot, runAsUser 65532, seccomp RuntimeDefault", psc)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers; want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("container has no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("container root file system is not read-only")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("container allows privilege escalation")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("container capabilities = %+v; want drop ALL, add none", sc.Capabilities)
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532:
		t.Error("container does not run as non-root user 65532")
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("container seccomp profile is not RuntimeDefault")
	}
	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"startup", c.StartupProbe, "/healthz"}, {"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe = %+v; want an HTTP GET of %s on the http port", p.name, p.probe, p.path)
		}
	}
	var ports []int32
	for _, p := range c.Ports {
		ports = append(ports, p.ContainerPort)
	}
	if !slices.Equal(ports, []int32{50051, 8080}) {
		t.Errorf("container ports = %v; want 50051, 8080", ports)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "data" && m.MountPath == "/data" }) {
		t.Errorf("no data volume at /data: %+v", c.VolumeMounts)
	}
	// The flags and environment are the server's: ParseConfig accepts them,
	// and they put the listeners on the pod network and the data on /data.
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			env[e.Name] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // a stand-in for the Secret's value
		}
	}
	cfg, err := daemon.ParseConfig(c.Args, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("the server refuses the chart's args %q: %v", c.Args, err)
	}
	if cfg.DataDir != "/data" || cfg.GRPCAddr != "0.0.0.0:50051" || cfg.HTTPAddr != "0.0.0.0:8080" {
		t.Errorf("data dir %q, listeners %q %q; want /data on 0.0.0.0:50051 and :8080", cfg.DataDir, cfg.GRPCAddr, cfg.HTTPAddr)
	}
}
