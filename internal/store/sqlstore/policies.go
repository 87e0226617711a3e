package sqlstore

import (
	"coffer/internal/fault"
	"coffer/internal/store"
)

// IAM managed policies with their versions and attachments, and inline
// policies. Policies are looked up by ARN, compared exactly; policy and
// inline policy names compare case-insensitively.

const policyColumns = "unique_id, name, path, arn, description, default_version_id, created_time, update_time"

func scanPolicy(r Row) (store.ManagedPolicy, error) {
	var p store.ManagedPolicy
	var created, updated int64
	err := r.Scan(&p.PolicyID, &p.Name, &p.Path, &p.ARN, &p.Description, &p.DefaultVersionID, &created, &updated)
	p.CreatedTime = fromNanos(created)
	p.UpdateTime = fromNanos(updated)
	return p, err
}

func policyNotFound(arn string) func() error {
	return func() error { return fault.NotFound("policy", arn, "Policy %s was not found.", arn) }
}

func policyVersionNotFound(arn, versionID string) func() error {
	return func() error {
		return fault.NotFound("policy-version", versionID, "Policy %s version %s does not exist.", arn, versionID)
	}
}

// CreatePolicy implements store.Identities.
func (t *Tx) CreatePolicy(p *store.ManagedPolicy, v1 *store.PolicyVersion) error {
	var id int64
	err := t.queryRow("INSERT INTO iam_policies ("+policyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"+
		" ON CONFLICT DO NOTHING RETURNING id",
		p.PolicyID, p.Name, p.Path, p.ARN, p.Description, p.DefaultVersionID, nanos(p.CreatedTime), nanos(p.UpdateTime)).Scan(&id)
	if err != nil && t.d.IsNoRows(err) {
		// The ARN ends with the name, so a taken ARN is a taken name too.
		return t.iamConflict("iam_policies", "policy", p.Name, p.PolicyID)
	}
	if err != nil || v1 == nil {
		return t.wrap(err, "create policy")
	}
	return t.wrap(t.insertPolicyVersion(id, p.ARN, v1), "create policy")
}

// insertPolicyVersion stores v as a version of the policy with internal id
// policyID.
func (t *Tx) insertPolicyVersion(policyID int64, arn string, v *store.PolicyVersion) error {
	n, err := t.exec(`INSERT INTO iam_policy_versions (policy_id, version_id, document, created_time) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, policyID, v.VersionID, v.Document, nanos(v.CreatedTime))
	if err == nil && n == 0 {
		return fault.Conflict("policy-version", v.VersionID, "Policy %s version %s already exists.", arn, v.VersionID)
	}
	return err
}

// policyRowID returns the internal id of the policy arn.
func (t *Tx) policyRowID(arn string) (int64, error) {
	var id int64
	err := t.queryRow("SELECT id FROM iam_policies WHERE arn = ?", arn).Scan(&id)
	if err != nil {
		return 0, t.getErr(err, "get policy", policyNotFound(arn))
	}
	return id, nil
}

// GetPolicy implements store.Identities.
func (t *Tx) GetPolicy(arn string) (*store.ManagedPolicy, error) {
	p, err := scanPolicy(t.queryRow("SELECT "+policyColumns+" FROM iam_policies WHERE arn = ?", arn))
	if err != nil {
		return nil, t.getErr(err, "get policy", policyNotFound(arn))
	}
	return &p, nil
}

// ListPolicies implements store.Identities.
func (t *Tx) ListPolicies(pathPrefix string, p store.Page) ([]store.ManagedPolicy, error) {
	ps, err := listIAM(t, "iam_policies", policyColumns, scanPolicy, pathPrefix, p)
	return ps, t.wrap(err, "list policies")
}

// UpdatePolicy implements store.Identities.
func (t *Tx) UpdatePolicy(p *store.ManagedPolicy) error {
	err := t.execOne(policyNotFound(p.ARN), "UPDATE iam_policies SET default_version_id = ?, update_time = ? WHERE arn = ?",
		p.DefaultVersionID, nanos(p.UpdateTime), p.ARN)
	return t.wrap(err, "update policy")
}

// DeletePolicy implements store.Identities; the schema cascades to the
// policy's versions and attachments.
func (t *Tx) DeletePolicy(arn string) error {
	err := t.execOne(policyNotFound(arn), "DELETE FROM iam_policies WHERE arn = ?", arn)
	return t.wrap(err, "delete policy")
}

// CreatePolicyVersion implements store.Identities.
func (t *Tx) CreatePolicyVersion(v *store.PolicyVersion) error {
	id, err := t.policyRowID(v.PolicyARN)
	if err != nil {
		return t.wrap(err, "create policy version")
	}
	return t.wrap(t.insertPolicyVersion(id, v.PolicyARN, v), "create policy version")
}

// GetPolicyVersion implements store.Identities.
func (t *Tx) GetPolicyVersion(arn, versionID string) (*store.PolicyVersion, error) {
	v := store.PolicyVersion{PolicyARN: arn}
	var created int64
	err := t.queryRow(`SELECT v.version_id, v.document, v.created_time
		FROM iam_policy_versions v JOIN iam_policies p ON p.id = v.policy_id
		WHERE p.arn = ? AND v.version_id = ?`, arn, versionID).Scan(&v.VersionID, &v.Document, &created)
	if err != nil {
		return nil, t.getErr(err, "get policy version", policyVersionNotFound(arn, versionID))
	}
	v.CreatedTime = fromNanos(created)
	return &v, nil
}

// ListPolicyVersions implements store.Identities, in the order the versions
// were created (their id).
func (t *Tx) ListPolicyVersions(arn string) ([]store.PolicyVersion, error) {
	id, err := t.policyRowID(arn)
	if err != nil {
		return nil, t.wrap(err, "list policy versions")
	}
	vs, err := list(t, func(r Row) (store.PolicyVersion, error) {
		v := store.PolicyVersion{PolicyARN: arn}
		var created int64
		err := r.Scan(&v.VersionID, &v.Document, &created)
		v.CreatedTime = fromNanos(created)
		return v, err
	}, "SELECT version_id, document, created_time FROM iam_policy_versions WHERE policy_id = ? ORDER BY id", id)
	return vs, t.wrap(err, "list policy versions")
}

// DeletePolicyVersion implements store.Identities.
func (t *Tx) DeletePolicyVersion(arn, versionID string) error {
	err := t.execOne(policyVersionNotFound(arn, versionID), `DELETE FROM iam_policy_versions
		WHERE policy_id = (SELECT id FROM iam_policies WHERE arn = ?) AND version_id = ?`, arn, versionID)
	return t.wrap(err, "delete policy version")
}

// AttachPolicy implements store.Identities. The policy must exist; attaching
// it again changes nothing.
func (t *Tx) AttachPolicy(principalARN, policyARN string) error {
	n, err := t.exec(`INSERT INTO iam_attachments (principal_arn, policy_arn)
		SELECT ?, arn FROM iam_policies WHERE arn = ? ON CONFLICT DO NOTHING`, principalARN, policyARN)
	if err != nil || n > 0 {
		return t.wrap(err, "attach policy")
	}
	// Attached already, or no such policy.
	_, err = t.policyRowID(policyARN)
	return err
}

// DetachPolicy implements store.Identities.
func (t *Tx) DetachPolicy(principalARN, policyARN string) error {
	err := t.execOne(func() error {
		return fault.NotFound("policy-attachment", policyARN, "Policy %s is not attached to %s.", policyARN, principalARN)
	}, "DELETE FROM iam_attachments WHERE principal_arn = ? AND policy_arn = ?", principalARN, policyARN)
	return t.wrap(err, "detach policy")
}

// ListAttachedPolicies implements store.Identities.
func (t *Tx) ListAttachedPolicies(principalARN string) ([]store.ManagedPolicy, error) {
	ps, err := list(t, scanPolicy, "SELECT "+qualify("p", policyColumns)+
		" FROM iam_attachments a JOIN iam_policies p ON p.arn = a.policy_arn WHERE a.principal_arn = ? ORDER BY "+t.d.NoCase("p.name"),
		principalARN)
	return ps, t.wrap(err, "list attached policies")
}

// PolicyAttachmentCount implements store.Identities.
func (t *Tx) PolicyAttachmentCount(policyARN string) (int, error) {
	var n int
	err := t.queryRow("SELECT count(*) FROM iam_attachments WHERE policy_arn = ?", policyARN).Scan(&n)
	return n, t.wrap(err, "count policy attachments")
}

func inlinePolicyNotFound(ownerARN, name string) func() error {
	return func() error {
		return fault.NotFound("inline-policy", name, "The policy with name %s cannot be found on %s.", name, ownerARN)
	}
}

// PutInlinePolicy implements store.Identities. Replacing a policy keeps the
// name it was created with.
func (t *Tx) PutInlinePolicy(p *store.InlinePolicy) error {
	_, err := t.exec(`INSERT INTO iam_inline_policies (owner_arn, name, document) VALUES (?, ?, ?)
		ON CONFLICT (owner_arn, `+t.d.NoCase("name")+`) DO UPDATE SET document = excluded.document`, p.OwnerARN, p.Name, p.Document)
	return t.wrap(err, "put inline policy")
}

// GetInlinePolicy implements store.Identities.
func (t *Tx) GetInlinePolicy(ownerARN, name string) (*store.InlinePolicy, error) {
	p := store.InlinePolicy{OwnerARN: ownerARN}
	err := t.queryRow("SELECT name, document FROM iam_inline_policies WHERE owner_arn = ? AND "+t.d.nameIs("name"),
		ownerARN, name).Scan(&p.Name, &p.Document)
	if err != nil {
		return nil, t.getErr(err, "get inline policy", inlinePolicyNotFound(ownerARN, name))
	}
	return &p, nil
}

// ListInlinePolicies implements store.Identities.
func (t *Tx) ListInlinePolicies(ownerARN string) ([]store.InlinePolicy, error) {
	ps, err := list(t, func(r Row) (store.InlinePolicy, error) {
		p := store.InlinePolicy{OwnerARN: ownerARN}
		err := r.Scan(&p.Name, &p.Document)
		return p, err
	}, "SELECT name, document FROM iam_inline_policies WHERE owner_arn = ? ORDER BY "+t.d.NoCase("name"), ownerARN)
	return ps, t.wrap(err, "list inline policies")
}

// DeleteInlinePolicy implements store.Identities.
func (t *Tx) DeleteInlinePolicy(ownerARN, name string) error {
	err := t.execOne(inlinePolicyNotFound(ownerARN, name),
		"DELETE FROM iam_inline_policies WHERE owner_arn = ? AND "+t.d.nameIs("name"), ownerARN, name)
	return t.wrap(err, "delete inline policy")
}

// DeleteAllInlinePolicies implements store.Identities: the owner's inline
// policies and its managed policy attachments.
func (t *Tx) DeleteAllInlinePolicies(ownerARN string) error {
	if _, err := t.exec("DELETE FROM iam_inline_policies WHERE owner_arn = ?", ownerARN); err != nil {
		return t.wrap(err, "delete inline policies")
	}
	_, err := t.exec("DELETE FROM iam_attachments WHERE principal_arn = ?", ownerARN)
	return t.wrap(err, "delete policy attachments")
}
