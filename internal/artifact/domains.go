package artifact

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"

	"coffer/internal/fault"
	"coffer/internal/store"
)

const defaultPageSize = 100

func (s *Service) owner(o string) string {
	if o == "" {
		return s.cfg.AccountID
	}
	return o
}

func pageLimit(p PageRequest) int {
	if p.Max <= 0 {
		return defaultPageSize
	}
	return min(p.Max, 1000)
}

// newRevision returns a fresh opaque revision id.
func newRevision() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// findDomain loads a domain or fails with ResourceNotFound.
func (s *Service) findDomain(tx store.Tx, ref DomainRef) (*store.Domain, error) {
	if err := validateDomainName(ref.Name); err != nil {
		return nil, err
	}
	if err := validateOwner(ref.Owner); err != nil {
		return nil, err
	}
	owner := s.owner(ref.Owner)
	d, err := tx.GetDomain(owner, ref.Name)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.NotFound("domain", ref.Name, "Domain not found. Domain: %s, Owner: %s", ref.Name, owner)
	}
	return d, err
}

func (s *Service) describeDomain(tx store.Tx, d *store.Domain) (*Domain, error) {
	repos, bytes, assets, err := tx.DomainUsage(d.ID)
	if err != nil {
		return nil, err
	}
	out := &Domain{Domain: *d, ARN: s.DomainARN(d.Owner, d.Name), RepositoryCount: repos, AssetSizeBytes: bytes, AssetCount: assets,
		S3BucketARN: s.AssetStoreARN(d.Owner)}
	out.EncryptionKey = s.storedKeyARN(d.EncryptionKey)
	return out, nil
}

// CreateDomain creates a domain owned by the service's account.
func (s *Service) CreateDomain(ctx context.Context, name, encryptionKey string, tags []store.Tag) (*Domain, error) {
	if err := validateDomainName(name); err != nil {
		return nil, err
	}
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	key, err := s.encryptionKeyARN(encryptionKey)
	if err != nil {
		return nil, err
	}
	var out *Domain
	err = s.meta.Write(ctx, func(tx store.Tx) error {
		d := &store.Domain{Owner: s.cfg.AccountID, Name: name, Status: "Active", EncryptionKey: key, CreatedTime: timeNow()}
		if err := tx.CreateDomain(d); err != nil {
			if errors.Is(err, fault.ErrConflict) {
				return fault.Conflict("domain", name, "Domain %s already exists in account %s", name, d.Owner)
			}
			return err
		}
		if err := s.checkDomainQuota(tx); err != nil {
			return err
		}
		// A key row left by a deleted domain of that name goes; a domain
		// given a key gets its own data key (encryption.go).
		if err := dropDomainKey(tx, d); err != nil {
			return err
		}
		if encryptionKey != "" && s.sealer != nil {
			if err := s.newDomainKey(tx, d); err != nil {
				return err
			}
		}
		if len(tags) > 0 {
			if err := tx.PutTags(s.DomainARN(d.Owner, d.Name), tags); err != nil {
				return err
			}
		}
		var err error
		out, err = s.describeDomain(tx, d)
		return err
	})
	return out, err
}

// DescribeDomain returns a domain with its usage.
func (s *Service) DescribeDomain(ctx context.Context, ref DomainRef) (*Domain, error) {
	var out *Domain
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		d, err := s.findDomain(tx, ref)
		if err != nil {
			return err
		}
		out, err = s.describeDomain(tx, d)
		return err
	})
	return out, err
}

// ListDomains lists domains in name order.
func (s *Service) ListDomains(ctx context.Context, page PageRequest) ([]Domain, string, error) {
	var out []Domain
	next := ""
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		limit := pageLimit(page)
		ds, err := tx.ListDomains(store.Page{After: page.After, Limit: limit + 1})
		if err != nil {
			return err
		}
		if len(ds) > limit {
			ds = ds[:limit]
			next = store.DomainKey(&ds[limit-1])
		}
		for i := range ds {
			d, err := s.describeDomain(tx, &ds[i])
			if err != nil {
				return err
			}
			out = append(out, *d)
		}
		return nil
	})
	return out, next, err
}

// DeleteDomain deletes an empty domain; a domain that still holds
// repositories is a Conflict.
func (s *Service) DeleteDomain(ctx context.Context, ref DomainRef) (*Domain, error) {
	var out *Domain
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		d, err := s.findDomain(tx, ref)
		if err != nil {
			return err
		}
		desc, err := s.describeDomain(tx, d)
		if err != nil {
			return err
		}
		if desc.RepositoryCount > 0 {
			return fault.Conflict("domain", d.Name, "Domain %s still contains %d repositories; delete them first", d.Name, desc.RepositoryCount)
		}
		if err := tx.DeleteDomain(d.ID); err != nil {
			return err
		}
		if err := dropDomainKey(tx, d); err != nil {
			return err
		}
		if err := tx.DeleteAllTags(desc.ARN); err != nil {
			return err
		}
		// Package groups (the root group included) die with the domain.
		if err := tx.DeleteAllTags(s.packageGroupARNPrefix(d.Owner, d.Name)); err != nil {
			return err
		}
		desc.Status = "Deleted"
		out = desc
		return nil
	})
	return out, err
}

// validatePolicyDocument checks a resource policy document. The policy
// language proper is enforced by the authorizer; here the document must at
// least be a JSON object within the size limit.
func validatePolicyDocument(doc string) error {
	if len(doc) == 0 || len(doc) > 7168 {
		return fault.Validation("Value at 'policyDocument' failed to satisfy constraint: Member must have length between 1 and 7168")
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return fault.Validation("policyDocument is not a valid JSON policy document: %v", err)
	}
	return nil
}

// putPolicy applies the optimistic revision check shared by domain and
// repository policies and returns the new revision.
func (s *Service) putPolicy(resourceType, id, currentRev, expectedRev, doc string) (string, error) {
	if err := validatePolicyDocument(doc); err != nil {
		return "", err
	}
	if s.cfg.ValidatePolicy != nil {
		if err := s.cfg.ValidatePolicy(doc); err != nil {
			return "", err
		}
	}
	if expectedRev != "" && expectedRev != currentRev {
		return "", fault.Conflict(resourceType, id, "The policy revision %s does not match the current revision", expectedRev)
	}
	return newRevision(), nil
}

func deletePolicy(resourceType, id, currentDoc, currentRev, expectedRev string) error {
	if currentDoc == "" {
		return fault.NotFound(resourceType, id, "No resource policy is set on %s %s", resourceType, id)
	}
	if expectedRev != "" && expectedRev != currentRev {
		return fault.Conflict(resourceType, id, "The policy revision %s does not match the current revision", expectedRev)
	}
	return nil
}

// PutDomainPolicy sets the domain's permissions policy.
func (s *Service) PutDomainPolicy(ctx context.Context, ref DomainRef, revision, document string) (*ResourcePolicy, error) {
	var out *ResourcePolicy
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		d, err := s.findDomain(tx, ref)
		if err != nil {
			return err
		}
		rev, err := s.putPolicy("domain", d.Name, d.PolicyRevision, revision, document)
		if err != nil {
			return err
		}
		d.PolicyDocument, d.PolicyRevision = document, rev
		out = &ResourcePolicy{ResourceARN: s.DomainARN(d.Owner, d.Name), Revision: rev, Document: document}
		return tx.UpdateDomain(d)
	})
	return out, err
}

// GetDomainPolicy returns the domain's permissions policy.
func (s *Service) GetDomainPolicy(ctx context.Context, ref DomainRef) (*ResourcePolicy, error) {
	var out *ResourcePolicy
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		d, err := s.findDomain(tx, ref)
		if err != nil {
			return err
		}
		if d.PolicyDocument == "" {
			return fault.NotFound("domain", d.Name, "No resource policy is set on domain %s", d.Name)
		}
		out = &ResourcePolicy{ResourceARN: s.DomainARN(d.Owner, d.Name), Revision: d.PolicyRevision, Document: d.PolicyDocument}
		return nil
	})
	return out, err
}

// DeleteDomainPolicy removes the domain's permissions policy and returns it.
func (s *Service) DeleteDomainPolicy(ctx context.Context, ref DomainRef, revision string) (*ResourcePolicy, error) {
	var out *ResourcePolicy
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		d, err := s.findDomain(tx, ref)
		if err != nil {
			return err
		}
		if err := deletePolicy("domain", d.Name, d.PolicyDocument, d.PolicyRevision, revision); err != nil {
			return err
		}
		out = &ResourcePolicy{ResourceARN: s.DomainARN(d.Owner, d.Name), Revision: d.PolicyRevision, Document: d.PolicyDocument}
		d.PolicyDocument, d.PolicyRevision = "", ""
		return tx.UpdateDomain(d)
	})
	return out, err
}
