package framework

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// The builders return plain typed objects running the test app; tests change what they need
// (replicas, probes, env, resources) on the returned value before creating it:
//
//	d := framework.Deployment(ns, "api", "--print", "boom", "--exit-code", "1")
//	d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{framework.EnvFromSecret("DB", "db", "password")}

// AppPort is the port the test app listens on by default.
const AppPort = 8080

// Container is the test app run with args. It never pulls: the image is imported, not pushed.
func Container(name string, args ...string) corev1.Container {
	return corev1.Container{
		Name:            name,
		Image:           TestAppImage,
		ImagePullPolicy: corev1.PullNever,
		Args:            args,
	}
}

// Labels are the labels of the pods of workload name; Selector is the same as a label selector.
func Labels(name string) map[string]string { return map[string]string{"app": name} }

// Selector is the label selector of the pods of workload name, e.g. for WaitForPod.
func Selector(name string) string { return "app=" + name }

// PodTemplate is a pod template labelled for workload name, with one container "app" running
// the test app with args, port "http" declared. The grace period is short: the test app stops at
// once on SIGTERM.
func PodTemplate(name string, args ...string) corev1.PodTemplateSpec {
	app := Container("app", args...)
	app.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: AppPort}}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: Labels(name)},
		Spec: corev1.PodSpec{
			Containers:                    []corev1.Container{app},
			TerminationGracePeriodSeconds: ptr.To[int64](5),
		},
	}
}

// Deployment is a one-replica Deployment of the test app run with args.
func Deployment(namespace, name string, args ...string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: Labels(name)},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: Labels(name)},
			Template: PodTemplate(name, args...),
		},
	}
}

// StatefulSet is a one-replica StatefulSet of the test app run with args. Its governing Service
// (spec.serviceName, named like the set) is not created: pod DNS is not needed here.
func StatefulSet(namespace, name string, args ...string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: Labels(name)},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](1),
			ServiceName: name,
			Selector:    &metav1.LabelSelector{MatchLabels: Labels(name)},
			Template:    PodTemplate(name, args...),
		},
	}
}

// DaemonSet is a DaemonSet of the test app run with args (one pod on the single node).
func DaemonSet(namespace, name string, args ...string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: Labels(name)},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: Labels(name)},
			Template: PodTemplate(name, args...),
		},
	}
}

// Ready gives the app container of w (a Deployment, StatefulSet or DaemonSet) a readiness probe
// on the test app's /ready and returns w: without one a pod is ready as soon as it starts, before
// the app listens or while it is still failing, and a test would judge too early.
func Ready[W *appsv1.Deployment | *appsv1.StatefulSet | *appsv1.DaemonSet](w W) W {
	var tpl *corev1.PodTemplateSpec
	switch o := any(w).(type) {
	case *appsv1.Deployment:
		tpl = &o.Spec.Template
	case *appsv1.StatefulSet:
		tpl = &o.Spec.Template
	case *appsv1.DaemonSet:
		tpl = &o.Spec.Template
	}
	tpl.Spec.Containers[0].ReadinessProbe = HTTPProbe("/ready")
	return w
}

// HTTPProbe probes path on the test app's port every second and fails after two misses, so that
// probe-driven tests take seconds, not minutes.
func HTTPProbe(path string) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(AppPort)},
		},
		PeriodSeconds:    1,
		TimeoutSeconds:   1,
		FailureThreshold: 2,
	}
}

// Resources sets requests equal to limits (Guaranteed QoS). An empty value leaves that resource out.
func Resources(cpu, memory string) corev1.ResourceRequirements {
	list := corev1.ResourceList{}
	if cpu != "" {
		list[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if memory != "" {
		list[corev1.ResourceMemory] = resource.MustParse(memory)
	}
	return corev1.ResourceRequirements{Requests: list, Limits: list.DeepCopy()}
}

// Env is a plain environment variable.
func Env(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }

// EnvFromSecret is an environment variable read from key of Secret secret.
func EnvFromSecret(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret},
		Key:                  key,
	}}}
}
