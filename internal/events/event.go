// Package events records every package version change as an event in the
// shape of CodeArtifact's EventBridge event "CodeArtifact Package Version
// State Change", in the store's outbox (store.Events), in the transaction
// that made the change: an event exists exactly when its change committed,
// and survives a crash until it is delivered (internal/webhook).
//
// Journal wraps the metadata store the artifact engine writes through and
// watches what each write transaction does to versions, assets and package
// metadata, so that no write path of the engine can forget its event.
package events

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Operation types.
const (
	Created = "Created"
	Updated = "Updated"
	Deleted = "Deleted"
)

// DetailType and Source are the event's constant fields.
const (
	DetailType = "CodeArtifact Package Version State Change"
	Source     = "aws.codeartifact"
)

// Event is the envelope, as EventBridge delivers it.
type Event struct {
	Version    string   `json:"version"` // "0"
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"` // RFC 3339, seconds, UTC
	Region     string   `json:"region"`
	Resources  []string `json:"resources"` // the package's ARN
	Detail     Detail   `json:"detail"`
}

// Detail is the event's detail object.
type Detail struct {
	DomainName              string  `json:"domainName"`
	DomainOwner             string  `json:"domainOwner"`
	RepositoryName          string  `json:"repositoryName"`
	RepositoryAdministrator string  `json:"repositoryAdministrator"`
	PackageFormat           string  `json:"packageFormat"`
	PackageNamespace        *string `json:"packageNamespace"` // null when the format has none
	PackageName             string  `json:"packageName"`
	PackageVersion          string  `json:"packageVersion"`
	PackageVersionState     string  `json:"packageVersionState"`
	PackageVersionRevision  string  `json:"packageVersionRevision"`
	Changes                 Changes `json:"changes"`
	OperationType           string  `json:"operationType"`
	// SequenceNumber grows with every event of the package (by more than
	// one at times): the outbox's sequence, set when the event is read.
	SequenceNumber       int64  `json:"sequenceNumber"`
	EventDeduplicationID string `json:"eventDeduplicationId"`
}

// Changes counts what the change did to the version.
type Changes struct {
	AssetsAdded     int  `json:"assetsAdded"`
	AssetsRemoved   int  `json:"assetsRemoved"`
	MetadataUpdated bool `json:"metadataUpdated"`
	AssetsUpdated   int  `json:"assetsUpdated"`
	StatusChanged   bool `json:"statusChanged"`
}

// Decode reads an outbox row's body and sets its sequence number.
func Decode(body string, seq int64) (*Event, error) {
	var e Event
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return nil, err
	}
	e.Detail.SequenceNumber = seq
	return &e, nil
}

// newID is a random UUID (version 4), as EventBridge ids are.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newDeduplicationID is 32 random bytes, base64url: as long as
// CodeArtifact's.
func newDeduplicationID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func eventTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
