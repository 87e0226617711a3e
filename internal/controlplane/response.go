package controlplane

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/fault"
)

// writeJSON writes a 200 response with v as its JSON body.
func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fault.Internal(err, "encoding the response")
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

// epoch is a timestamp on the wire: the model sets no timestampFormat, so
// REST-JSON uses epoch seconds as a JSON number (milliseconds as fraction).
// Use it with `omitzero` to leave out unset times.
type epoch time.Time

// IsZero reports whether the time is unset.
func (t epoch) IsZero() bool { return time.Time(t).IsZero() }

// MarshalJSON writes seconds since the epoch.
func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// resourcePolicy is the model's ResourcePolicy.
type resourcePolicy struct {
	ResourceARN string `json:"resourceArn,omitempty"`
	Revision    string `json:"revision,omitempty"`
	Document    string `json:"document,omitempty"`
}

func toPolicy(p *artifact.ResourcePolicy) resourcePolicy {
	return resourcePolicy{ResourceARN: p.ResourceARN, Revision: p.Revision, Document: p.Document}
}

// policyOutput is the output of every Put/Get/Delete*PermissionsPolicy.
type policyOutput struct {
	Policy resourcePolicy `json:"policy"`
}

// batchOutput is the output of the four version batch operations. Both maps
// are always present, as AWS returns them.
type batchOutput struct {
	SuccessfulVersions map[string]successfulVersion `json:"successfulVersions"`
	FailedVersions     map[string]versionError      `json:"failedVersions"`
}

type successfulVersion struct {
	Revision string `json:"revision,omitempty"`
	Status   string `json:"status,omitempty"`
}

type versionError struct {
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

func toBatch(res *artifact.BatchResult) batchOutput {
	out := batchOutput{
		SuccessfulVersions: make(map[string]successfulVersion, len(res.Successful)),
		FailedVersions:     make(map[string]versionError, len(res.Failed)),
	}
	for v, s := range res.Successful {
		out.SuccessfulVersions[v] = successfulVersion{Revision: s.Revision, Status: s.Status}
	}
	for v, f := range res.Failed {
		out.FailedVersions[v] = versionError{ErrorCode: f.Code, ErrorMessage: f.Message}
	}
	return out
}
