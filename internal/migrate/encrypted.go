package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"coffer/internal/artifact"
	"coffer/internal/auth/seal"
	"coffer/internal/blob"
	"coffer/internal/blob/encrypted"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// Encrypted domains (artifact's encryption at rest) keep each blob as an
// object named encrypted.ObjectName(key ID, plaintext SHA-256), which holds
// the ciphertext. Those objects are copied raw, under the same name (the
// domain-key settings are copied verbatim, so the key IDs and names stay
// valid), and verified as they are copied: the header must name the
// domain's key, every segment and the trailer must authenticate under it,
// and the plaintext must have the digests the asset records. The plaintext
// is never written anywhere.

// ErrNoMasterKey is the error for a deployment with encrypted domains when
// no master key was given to open their data keys.
var ErrNoMasterKey = errors.New("the deployment has encrypted domains, whose blobs can only be verified with its master key " +
	"(COFFER_MASTER_KEY, or the master key file)")

// DomainKeys returns the data key of every encrypted domain tx sees, by
// domain ID, opened with sealer; nil when there is none. sealer may be nil
// when there is none; otherwise it is ErrNoMasterKey.
func DomainKeys(tx store.Tx, sealer artifact.KeySealer) (map[int64]encrypted.Key, error) {
	enc, err := artifact.EncryptedDomains(tx)
	if err != nil || len(enc) == 0 {
		return nil, err
	}
	if sealer == nil {
		return nil, ErrNoMasterKey
	}
	return artifact.DomainKeys(tx, sealer)
}

// CopyEncrypted copies the object holding the blob want encrypted under key
// from one store to the other raw, under its name, verifying it as it is
// streamed (VerifyEncrypted's checks); it is committed only when it
// verifies, else the error is a *CorruptBlobError. An object the target
// holds already is not read (created is false). An object the source lacks
// is ErrBlobMissing.
func CopyEncrypted(ctx context.Context, from, to blob.Store, want blob.Digests, key encrypted.Key) (created bool, err error) {
	name := encrypted.ObjectName(key.ID, want.SHA256)
	present, err := to.Exists(ctx, name)
	if err != nil {
		return false, fmt.Errorf("blob %s (encrypted object %s): target: %w", want.SHA256, name, err)
	}
	if present {
		return false, nil
	}
	obj, err := from.Open(ctx, name)
	if errors.Is(err, fault.ErrNotFound) {
		return false, fmt.Errorf("blob %s (encrypted object %s): an asset references it but %w", want.SHA256, name, ErrBlobMissing)
	}
	if err != nil {
		return false, fmt.Errorf("blob %s (encrypted object %s): source: %w", want.SHA256, name, err)
	}
	defer obj.Close()
	corrupt := func(cause error, got blob.Digests) error {
		return &CorruptBlobError{SHA256: want.SHA256, Object: name, Want: want, Got: got, Cause: cause}
	}
	if size := encrypted.EncryptedSize(want.Size); obj.Size() != size {
		return false, corrupt(fmt.Errorf("%w: the object is %d bytes, %d plaintext bytes encrypted are %d", encrypted.ErrCorrupt, obj.Size(), want.Size, size), blob.Digests{})
	}
	v, err := encrypted.NewVerifier(key, obj.Size())
	if err != nil {
		return false, corrupt(err, blob.Digests{})
	}
	staged, err := to.Stage(ctx, io.TeeReader(obj, v), obj.Size())
	if err != nil {
		v.Sum()
		if errors.Is(err, encrypted.ErrCorrupt) {
			return false, corrupt(err, blob.Digests{})
		}
		return false, fmt.Errorf("blob %s (encrypted object %s): %w", want.SHA256, name, err)
	}
	got, verr := v.Sum()
	if verr != nil || !Matches(want, got) {
		return false, errors.Join(corrupt(verr, got), staged.Discard())
	}
	nc, ok := staged.(blob.NamedCommitter)
	if !ok {
		return false, errors.Join(fmt.Errorf("blob %s: the target store cannot commit an encrypted object under its name", want.SHA256), staged.Discard())
	}
	created, err = nc.CommitAs(ctx, name)
	if err != nil {
		return false, errors.Join(fmt.Errorf("blob %s (encrypted object %s): commit: %w", want.SHA256, name, err), staged.Discard())
	}
	return created, nil
}

// VerifyEncrypted reads the object holding the blob sha encrypted under key
// from bs and returns its plaintext's digests, once the header names key
// and every segment and the trailer authenticate (the trailer naming the
// plaintext's SHA-256); a failure wraps encrypted.ErrCorrupt. An absent
// object is fault.ErrNotFound.
func VerifyEncrypted(ctx context.Context, bs blob.Store, sha string, key encrypted.Key) (blob.Digests, error) {
	obj, err := bs.Open(ctx, encrypted.ObjectName(key.ID, sha))
	if err != nil {
		return blob.Digests{}, err
	}
	defer obj.Close()
	v, err := encrypted.NewVerifier(key, obj.Size())
	if err != nil {
		return blob.Digests{}, err
	}
	if _, err := io.Copy(v, obj); err != nil {
		v.Sum()
		return blob.Digests{}, err
	}
	return v.Sum()
}

// LoadSealer returns the sealer of the master key in envValue (base64, as
// COFFER_MASTER_KEY holds it) or else in file; nil when envValue is empty
// and file is empty or does not exist (unlike a server, it never creates
// a key file).
func LoadSealer(file, envValue string) (artifact.KeySealer, error) {
	if envValue == "" {
		if file == "" {
			return nil, nil
		}
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	k, err := seal.LoadKey(file, envValue)
	if err != nil {
		return nil, err
	}
	s, err := seal.New(k)
	if err != nil {
		return nil, err
	}
	return s, nil
}
