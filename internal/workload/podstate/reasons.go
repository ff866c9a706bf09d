package podstate

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The kubelet's reasons for a container that does not run (state.waiting.reason).
const (
	ReasonContainerCreating = "ContainerCreating"
	ReasonPodInitializing   = "PodInitializing"
	ReasonCrashLoopBackOff  = "CrashLoopBackOff"

	ReasonErrImagePull              = "ErrImagePull"
	ReasonImagePullBackOff          = "ImagePullBackOff"
	ReasonErrImageNeverPull         = "ErrImageNeverPull"
	ReasonInvalidImageName          = "InvalidImageName"
	ReasonImageInspectError         = "ImageInspectError"
	ReasonRegistryUnavailable       = "RegistryUnavailable"
	ReasonSignatureValidationFailed = "SignatureValidationFailed"

	ReasonCreateContainerConfigError = "CreateContainerConfigError"
	ReasonCreateContainerError       = "CreateContainerError"
	ReasonRunContainerError          = "RunContainerError"
	ReasonRunInitContainerError      = "RunInitContainerError"
	ReasonVerifyNonRootError         = "VerifyNonRootError"
	ReasonPreCreateHookError         = "PreCreateHookError"
	ReasonPreStartHookError          = "PreStartHookError"
	ReasonPostStartHookError         = "PostStartHookError"

	ReasonCreatePodSandboxError = "CreatePodSandboxError"
	ReasonConfigPodSandboxError = "ConfigPodSandboxError"
	ReasonKillPodSandboxError   = "KillPodSandboxError"
	ReasonSetupNetworkError     = "SetupNetworkError"
)

// The kubelet's and the runtime's reasons for a container that ended (state.terminated.reason).
const (
	ReasonOOMKilled          = "OOMKilled"
	ReasonError              = "Error"
	ReasonCompleted          = "Completed"
	ReasonStartError         = "StartError"
	ReasonContainerCannotRun = "ContainerCannotRun"
	ReasonDeadlineExceeded   = "DeadlineExceeded"
)

// ReasonEvicted is the pod's status.reason when the kubelet evicted it (node pressure).
const ReasonEvicted = "Evicted"

// InitPrefix is put before the reason of an init container, as kubectl's STATUS column does.
const InitPrefix = "Init:"

// Family is what a waiting reason is about.
type Family int

const (
	FamilyNone     Family = iota // not a reason the kubelet gives for a failing start
	FamilyCreating               // the normal course: being created, or waiting for init containers
	FamilyCrash                  // in back-off after exits; crash accounting judges it
	FamilyImage                  // pulling or checking the image
	FamilyConfig                 // the container's configuration (a Secret or ConfigMap it reads)
	FamilyStart                  // the runtime cannot create or start the process, or a hook fails
	FamilySandbox                // the pod's sandbox or network
)

// Outcome is what a waiting reason means for a rollout.
type Outcome int

const (
	// Waits: nothing to judge from the reason alone.
	Waits Outcome = iota
	// FailsNow: it never clears by itself; the pod spec or the image must change.
	FailsNow
	// FailsAfterGrace: a retry may clear it (a registry blip, a sandbox race), so it fails only
	// once it has lasted a grace.
	FailsAfterGrace
)

// Meaning is what one reason says.
type Meaning struct {
	Family  Family
	Outcome Outcome
}

// waiting holds every waiting reason the gate reads. A reason that is not here means Waits.
var waiting = map[string]Meaning{
	ReasonContainerCreating: {FamilyCreating, Waits},
	ReasonPodInitializing:   {FamilyCreating, Waits},
	ReasonCrashLoopBackOff:  {FamilyCrash, Waits},

	ReasonErrImageNeverPull:         {FamilyImage, FailsNow},
	ReasonInvalidImageName:          {FamilyImage, FailsNow},
	ReasonImageInspectError:         {FamilyImage, FailsNow},
	ReasonSignatureValidationFailed: {FamilyImage, FailsNow},
	ReasonErrImagePull:              {FamilyImage, FailsAfterGrace},
	ReasonImagePullBackOff:          {FamilyImage, FailsAfterGrace},
	ReasonRegistryUnavailable:       {FamilyImage, FailsAfterGrace},

	ReasonCreateContainerConfigError: {FamilyConfig, FailsNow},

	ReasonVerifyNonRootError:    {FamilyStart, FailsNow},
	ReasonRunContainerError:     {FamilyStart, FailsNow},
	ReasonRunInitContainerError: {FamilyStart, FailsNow},
	ReasonPreCreateHookError:    {FamilyStart, FailsNow},
	ReasonPreStartHookError:     {FamilyStart, FailsNow},
	ReasonPostStartHookError:    {FamilyStart, FailsNow},
	ReasonCreateContainerError:  {FamilyStart, FailsAfterGrace},

	ReasonCreatePodSandboxError: {FamilySandbox, FailsAfterGrace},
	ReasonConfigPodSandboxError: {FamilySandbox, FailsAfterGrace},
	ReasonKillPodSandboxError:   {FamilySandbox, FailsAfterGrace},
	ReasonSetupNetworkError:     {FamilySandbox, FailsAfterGrace},
}

// Waiting says what a waiting reason means. Unknown reasons (a newer kubelet's) wait.
func Waiting(reason string) Meaning { return waiting[reason] }

// IsPullFailure: the kubelet tried to pull the image and the registry answered (or did not); its
// message carries the registry's words, which may show the failure is final.
func IsPullFailure(reason string) bool {
	return reason == ReasonErrImagePull || reason == ReasonImagePullBackOff
}

// StartFailed: the runtime could not create or start the container's process, as a waiting
// reason (RunContainerError, a hook error, ...) or a terminated one (StartError,
// ContainerCannotRun: the entrypoint is missing or not executable).
func StartFailed(reason string) bool {
	return Waiting(reason).Family == FamilyStart || reason == ReasonStartError || reason == ReasonContainerCannotRun
}

// WaitingOutcome is what the waiting state of a container means for a rollout: its reason's
// Outcome, except that CreateContainerConfigError while the kubelet's Secret or ConfigMap cache
// is still syncing ("failed to sync ... cache") is a start-up race, not a missing object.
func WaitingOutcome(w *corev1.ContainerStateWaiting) Outcome {
	if w == nil {
		return Waits
	}
	if CacheNotSynced(w.Reason, w.Message) {
		return FailsAfterGrace
	}
	return Waiting(w.Reason).Outcome
}

// CacheNotSynced: a CreateContainerConfigError whose message says the kubelet's cache of
// Secrets or ConfigMaps has not synced yet; the object may well exist.
func CacheNotSynced(reason, message string) bool {
	return reason == ReasonCreateContainerConfigError && strings.Contains(message, "failed to sync") && strings.Contains(message, "cache")
}
