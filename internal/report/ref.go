package report

// Ref names one workload: its kind as the API spells it (Deployment, Certificate), its namespace
// ("" for a cluster-scoped kind) and its name. It is carried from the targets through the watch,
// the diagnosis and the rollback to the report, and String is the one way a workload's name is
// written, on every side of the gate.
type Ref struct {
	Kind, Namespace, Name string
}

// String is how kubectl spells the workload on the command line: "deployment/api".
func (r Ref) String() string { return lower(r.Kind) + "/" + r.Name }
