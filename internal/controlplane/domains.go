package controlplane

import (
	"context"
	"net/http"

	"coffer/internal/artifact"
)

// domainDescription is the model's DomainDescription.
type domainDescription struct {
	Name            string `json:"name,omitempty"`
	Owner           string `json:"owner,omitempty"`
	ARN             string `json:"arn,omitempty"`
	Status          string `json:"status,omitempty"`
	CreatedTime     epoch  `json:"createdTime,omitzero"`
	EncryptionKey   string `json:"encryptionKey,omitempty"`
	RepositoryCount int    `json:"repositoryCount"`
	AssetSizeBytes  int64  `json:"assetSizeBytes"`
	S3BucketARN     string `json:"s3BucketArn,omitempty"`
}

// domainSummary is the model's DomainSummary.
type domainSummary struct {
	Name          string `json:"name,omitempty"`
	Owner         string `json:"owner,omitempty"`
	ARN           string `json:"arn,omitempty"`
	Status        string `json:"status,omitempty"`
	CreatedTime   epoch  `json:"createdTime,omitzero"`
	EncryptionKey string `json:"encryptionKey,omitempty"`
}

func toDomain(d *artifact.Domain) domainDescription {
	return domainDescription{
		Name:            d.Name,
		Owner:           d.Owner,
		ARN:             d.ARN,
		Status:          d.Status,
		CreatedTime:     epoch(d.CreatedTime),
		EncryptionKey:   d.EncryptionKey,
		RepositoryCount: d.RepositoryCount,
		AssetSizeBytes:  d.AssetSizeBytes,
		S3BucketARN:     d.S3BucketARN,
	}
}

func toDomainSummary(d *artifact.Domain) domainSummary {
	return domainSummary{
		Name:          d.Name,
		Owner:         d.Owner,
		ARN:           d.ARN,
		Status:        d.Status,
		CreatedTime:   epoch(d.CreatedTime),
		EncryptionKey: d.EncryptionKey,
	}
}

// domainOutput is the output of Create/Describe/DeleteDomain.
type domainOutput struct {
	Domain domainDescription `json:"domain"`
}

func (h *handler) createDomain(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	name := in.str("domain", "domain", specDomainName, true)
	var body struct {
		EncryptionKey *string `json:"encryptionKey"`
		Tags          []tag   `json:"tags"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	key := in.v.optStr("encryptionKey", body.EncryptionKey, specARN)
	tags := in.tags("tags", body.Tags)
	if err := in.done(); err != nil {
		return err
	}
	// A new domain belongs to this installation's account.
	if err := h.authorizeTagged(r, "CreateDomain", h.svc.DomainARN(h.svc.AccountID(), name), tags); err != nil {
		return err
	}
	d, err := h.svc.CreateDomain(r.Context(), name, key, tags)
	if err != nil {
		return err
	}
	return writeJSON(w, domainOutput{toDomain(d)})
}

func (h *handler) describeDomain(w http.ResponseWriter, r *http.Request) error {
	return h.domainOp(w, r, "DescribeDomain", h.svc.DescribeDomain)
}

func (h *handler) deleteDomain(w http.ResponseWriter, r *http.Request) error {
	return h.domainOp(w, r, "DeleteDomain", h.svc.DeleteDomain)
}

// domainOp serves the operations that take only the domain and return it.
func (h *handler) domainOp(w http.ResponseWriter, r *http.Request, op string,
	call func(context.Context, artifact.DomainRef) (*artifact.Domain, error)) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, op, h.domainARN(ref)); err != nil {
		return err
	}
	d, err := call(r.Context(), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, domainOutput{toDomain(d)})
}

func (h *handler) listDomains(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	// ListDomains is the one list operation that pages in the body.
	var body struct {
		MaxResults *int64  `json:"maxResults"`
		NextToken  *string `json:"nextToken"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	page := in.bodyPage("ListDomains", body.MaxResults, body.NextToken)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListDomains", "*"); err != nil {
		return err
	}
	domains, next, err := h.svc.ListDomains(r.Context(), page)
	if err != nil {
		return err
	}
	out := struct {
		Domains   []domainSummary `json:"domains"`
		NextToken string          `json:"nextToken,omitempty"`
	}{Domains: make([]domainSummary, 0, len(domains)), NextToken: in.nextToken(next)}
	for i := range domains {
		out.Domains = append(out.Domains, toDomainSummary(&domains[i]))
	}
	return writeJSON(w, out)
}

func (h *handler) putDomainPolicy(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	// Unlike every other domain operation, Put takes the domain in the body.
	var body struct {
		Domain         *string `json:"domain"`
		DomainOwner    *string `json:"domainOwner"`
		PolicyRevision *string `json:"policyRevision"`
		PolicyDocument *string `json:"policyDocument"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	ref := artifact.DomainRef{
		Name:  in.v.reqStr("domain", body.Domain, specDomainName),
		Owner: in.v.optStr("domainOwner", body.DomainOwner, specAccountID),
	}
	revision := in.v.optStr("policyRevision", body.PolicyRevision, specPolicyRevision)
	document := in.v.reqStr("policyDocument", body.PolicyDocument, specPolicyDocument)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "PutDomainPermissionsPolicy", h.domainARN(ref)); err != nil {
		return err
	}
	p, err := h.svc.PutDomainPolicy(r.Context(), ref, revision, document)
	if err != nil {
		return err
	}
	return writeJSON(w, policyOutput{toPolicy(p)})
}

func (h *handler) getDomainPolicy(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "GetDomainPermissionsPolicy", h.domainARN(ref)); err != nil {
		return err
	}
	p, err := h.svc.GetDomainPolicy(r.Context(), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, policyOutput{toPolicy(p)})
}

func (h *handler) deleteDomainPolicy(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	revision := in.str("policy-revision", "policyRevision", specPolicyRevision, false)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "DeleteDomainPermissionsPolicy", h.domainARN(ref)); err != nil {
		return err
	}
	p, err := h.svc.DeleteDomainPolicy(r.Context(), ref, revision)
	if err != nil {
		return err
	}
	return writeJSON(w, policyOutput{toPolicy(p)})
}
