package artifact

// Domains encrypted at rest. A domain created with an encryptionKey gets
// its own random data key, sealed by the master key (KeySealer) and kept in
// a settings row, domain-key/<owner>/<name>, which coffer migrate and coffer
// backup copy with the other settings. Every blob of such a domain is
// stored encrypted under that key (blob/encrypted), in an object named from
// the key's ID and the plaintext's SHA-256: deduplication stays within the
// domain, and no object is shared with another domain. Assets keep their
// plaintext digests; reads decrypt. A domain created without an
// encryptionKey stores blobs as before. The key a domain reports
// (encryptionKey, a KMS key ARN) is a label: coffer has no KMS.
//
// Blob hash locks stay keyed by the plaintext SHA-256, so that an upload to
// an encrypted domain, a release and the orphan collector serialise exactly
// as they do for plaintext blobs.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"coffer/internal/blob"
	"coffer/internal/blob/encrypted"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// KeySealer seals the domains' data keys with the master key; auth/seal's
// Sealer is one.
type KeySealer interface {
	Seal(plaintext []byte, purpose string) []byte
	Open(sealed []byte, purpose string) ([]byte, error)
}

// SetKeySealer enables encryption at rest: without a sealer, domains
// created with an encryptionKey store their blobs unencrypted (only the key
// ARN is kept), as earlier releases did.
func (s *Service) SetKeySealer(k KeySealer) { s.sealer = k }

const domainKeyPrefix = "domain-key/"

func domainKeySetting(owner, name string) string { return domainKeyPrefix + owner + "/" + name }

// domainKeyRow is the value of a domain-key setting.
type domainKeyRow struct {
	KeyID  string `json:"keyId"`
	Sealed string `json:"sealed"` // base64 of the sealed 32-byte data key
}

func keyPurpose(id encrypted.KeyID) string { return "coffer domain data key " + id.String() }

// newDomainKey creates the data key of a new domain and stores it sealed.
func (s *Service) newDomainKey(tx store.Tx, d *store.Domain) error {
	k := encrypted.NewKey()
	row, err := json.Marshal(domainKeyRow{KeyID: k.ID.String(),
		Sealed: base64.StdEncoding.EncodeToString(s.sealer.Seal(k.Secret[:], keyPurpose(k.ID)))})
	if err != nil {
		return err
	}
	return tx.PutSetting(domainKeySetting(d.Owner, d.Name), string(row))
}

// dropDomainKey removes a domain's key row, if any.
func dropDomainKey(tx store.Tx, d *store.Domain) error {
	if err := tx.DeleteSetting(domainKeySetting(d.Owner, d.Name)); err != nil && !errors.Is(err, fault.ErrNotFound) {
		return err
	}
	return nil
}

func parseKeyRow(value string) (domainKeyRow, encrypted.KeyID, error) {
	var row domainKeyRow
	if err := json.Unmarshal([]byte(value), &row); err != nil {
		return row, encrypted.KeyID{}, fmt.Errorf("domain key row: %w", err)
	}
	id, err := encrypted.ParseKeyID(row.KeyID)
	return row, id, err
}

// openKey unseals a domain key row.
func (s *Service) openKey(value string) (encrypted.Key, error) { return OpenDomainKey(s.sealer, value) }

// EncryptedDomains returns the key ID of every encrypted domain tx sees, by
// domain ID (coffer backup, fsck and migrate name objects with it).
func EncryptedDomains(tx store.Tx) (map[int64]encrypted.KeyID, error) { return encryptedDomains(tx) }

// DomainKeys opens the data key of every encrypted domain tx sees, by
// domain ID, with sealer; nil when there is none.
func DomainKeys(tx store.Tx, sealer KeySealer) (map[int64]encrypted.Key, error) {
	var out map[int64]encrypted.Key
	err := eachDomainKey(tx, func(d *store.Domain, value string) error {
		k, err := OpenDomainKey(sealer, value)
		if err != nil {
			return fmt.Errorf("domain %s: %w", d.Name, err)
		}
		if out == nil {
			out = map[int64]encrypted.Key{}
		}
		out[d.ID] = k
		return nil
	})
	return out, err
}

// eachDomainKey calls fn with each existing domain that has a domain-key
// setting, and the setting's value.
func eachDomainKey(tx store.Tx, fn func(d *store.Domain, value string) error) error {
	rows, err := tx.ListSettingsPrefix(domainKeyPrefix)
	if err != nil {
		return err
	}
	for _, r := range rows {
		owner, name, ok := strings.Cut(strings.TrimPrefix(r.Key, domainKeyPrefix), "/")
		if !ok {
			continue
		}
		d, err := tx.GetDomain(owner, name)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := fn(d, r.Value); err != nil {
			return err
		}
	}
	return nil
}

// OpenDomainKey unseals the value of a domain-key setting with sealer.
func OpenDomainKey(sealer KeySealer, value string) (encrypted.Key, error) {
	row, id, err := parseKeyRow(value)
	if err != nil {
		return encrypted.Key{}, err
	}
	if sealer == nil {
		return encrypted.Key{}, errors.New("a domain's blobs are encrypted, and this server has no master key to open its key")
	}
	sealed, err := base64.StdEncoding.DecodeString(row.Sealed)
	if err != nil {
		return encrypted.Key{}, fmt.Errorf("domain key row: %w", err)
	}
	secret, err := sealer.Open(sealed, keyPurpose(id))
	if err != nil || len(secret) != 32 {
		return encrypted.Key{}, fmt.Errorf("the domain key %s does not open with this master key: %v", id, err)
	}
	k := encrypted.Key{ID: id}
	copy(k.Secret[:], secret)
	return k, nil
}

// blobsFor returns the blob store of a domain's assets: the service's own,
// or for an encrypted domain one that encrypts into it. A domain's choice
// is made in the transaction that creates it and never changes, and domain
// IDs are never reused, so the answer is kept by ID.
func (s *Service) blobsFor(ctx context.Context, domainID int64) (blob.Store, error) {
	if v, ok := s.domainBlobs.Load(domainID); ok {
		return v.(blob.Store), nil
	}
	value := ""
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		d, err := tx.GetDomainByID(domainID)
		if err != nil {
			return err
		}
		value, err = tx.GetSetting(domainKeySetting(d.Owner, d.Name))
		if errors.Is(err, fault.ErrNotFound) {
			value, err = "", nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var bs blob.Store = s.blobs
	if value != "" {
		k, err := s.openKey(value)
		if err != nil {
			return nil, fault.Internal(err, "the domain's blobs cannot be read")
		}
		bs = encrypted.New(s.blobs, k)
	}
	v, _ := s.domainBlobs.LoadOrStore(domainID, bs)
	return v.(blob.Store), nil
}

// encryptedDomains returns the key ID of every encrypted domain, by domain ID.
func encryptedDomains(tx store.Tx) (map[int64]encrypted.KeyID, error) {
	var out map[int64]encrypted.KeyID
	err := eachDomainKey(tx, func(d *store.Domain, value string) error {
		_, id, err := parseKeyRow(value)
		if err != nil {
			return err
		}
		if out == nil {
			out = map[int64]encrypted.KeyID{}
		}
		out[d.ID] = id
		return nil
	})
	return out, err
}

// unneededObjects returns the names of the objects that may hold content
// sha and that no asset needs: the plaintext blob unless an unencrypted
// domain references sha, and each encrypted domain's object unless that
// domain does.
func unneededObjects(tx store.Tx, sha string) ([]string, error) {
	referenced, err := tx.BlobReferenced(sha)
	if err != nil {
		return nil, err
	}
	enc, err := encryptedDomains(tx)
	if err != nil {
		return nil, err
	}
	var out []string
	for id, kid := range enc {
		if _, err := tx.FindBlob(id, sha); errors.Is(err, fault.ErrNotFound) {
			out = append(out, encrypted.ObjectName(kid, sha))
		} else if err != nil {
			return nil, err
		}
	}
	if referenced && len(enc) > 0 {
		// Maybe only encrypted domains reference it: then the plaintext
		// blob, if any, is not needed.
		referenced = false
		after := ""
		for !referenced {
			ds, err := tx.ListDomains(store.Page{After: after, Limit: 100})
			if err != nil {
				return nil, err
			}
			for _, d := range ds {
				if _, ok := enc[d.ID]; ok {
					continue
				}
				if _, err := tx.FindBlob(d.ID, sha); err == nil {
					referenced = true
					break
				} else if !errors.Is(err, fault.ErrNotFound) {
					return nil, err
				}
			}
			if len(ds) < 100 {
				break
			}
			after = store.DomainKey(&ds[len(ds)-1])
		}
	}
	if !referenced {
		out = append(out, sha)
	}
	return out, nil
}

// deleteUnneeded deletes every object of content sha that no asset needs
// (unneededObjects); the caller holds sha's hash lock.
func (s *Service) deleteUnneeded(ctx context.Context, sha string) error {
	var names []string
	if err := s.meta.Read(ctx, func(tx store.Tx) error {
		var err error
		names, err = unneededObjects(tx, sha)
		return err
	}); err != nil {
		return err
	}
	for _, name := range names {
		if err := s.blobs.Delete(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

type fetchStoreKey struct{}

// FetchStore returns the blob store a FetchFunc that the engine calls with
// ctx must stage into, with a prefix for its deduplication keys, when that
// is not the one the fetcher was built with (the domain encrypts its
// blobs); nil otherwise.
func FetchStore(ctx context.Context) (blob.Store, string) {
	if bs, ok := ctx.Value(fetchStoreKey{}).(*encrypted.Store); ok && bs != nil {
		return bs, "encrypted:" + bs.KeyID().String() + "\x00"
	}
	return nil, ""
}

// withFetchStore is the context a FetchFunc runs in to write to bs.
func withFetchStore(ctx context.Context, bs blob.Store) context.Context {
	es, _ := bs.(*encrypted.Store)
	if es == nil && ctx.Value(fetchStoreKey{}) == nil {
		return ctx
	}
	// A read of another domain inside a FetchFunc must not inherit its store.
	return context.WithValue(ctx, fetchStoreKey{}, es)
}

// describeObject tells which encrypted domain's content the object name
// holds, if it is one (the orphan collector's question).
func (s *Service) describeObject(ctx context.Context, name string, enc map[int64]encrypted.KeyID) (domainID int64, sha string, ok bool, err error) {
	if len(enc) == 0 {
		return 0, "", false, nil
	}
	byKey := map[encrypted.KeyID]int64{}
	for id, kid := range enc {
		byKey[kid] = id
	}
	var keyErr error
	d, ok, err := encrypted.Describe(ctx, s.blobs, name, func(kid encrypted.KeyID) (encrypted.Key, bool) {
		id, known := byKey[kid]
		if !known {
			return encrypted.Key{}, false
		}
		bs, err := s.blobsFor(ctx, id)
		if err != nil {
			keyErr = err
			return encrypted.Key{}, false
		}
		es, isEnc := bs.(*encrypted.Store)
		if !isEnc {
			return encrypted.Key{}, false
		}
		return es.Key(), true
	})
	if keyErr != nil {
		return 0, "", false, keyErr
	}
	if err != nil || !ok {
		return 0, "", false, err
	}
	return byKey[d.KeyID], d.SHA256, true, nil
}
