package rules

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// Rules are kept one per row of the settings table, under
// "rules/<owner>/<domain>/<id>", as JSON: they are few, read whole when a
// set is compiled, and need no schema change.
const settingPrefix = "rules/"

func domainPrefix(owner, domain string) string {
	return settingPrefix + owner + "/" + domain + "/"
}

// revisionKey is a row every change of a rule rewrites with a new value,
// in the same transaction, so that a Loader learns whether the rules
// changed from one row, not all of them. It lies outside settingPrefix.
const revisionKey = "rules-revision"

func bumpRevision(tx store.Tx) error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	return tx.PutSetting(revisionKey, hex.EncodeToString(b[:]))
}

// Put stores r, which Validate accepted, replacing the rule of the same id.
func Put(tx store.Tx, r *Rule) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := tx.PutSetting(domainPrefix(r.DomainOwner, r.Domain)+r.ID, string(b)); err != nil {
		return err
	}
	return bumpRevision(tx)
}

// Get returns the rule id of a domain; fault.NotFound if there is none.
func Get(tx store.Tx, owner, domain, id string) (*Rule, error) {
	v, err := tx.GetSetting(domainPrefix(owner, domain) + id)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.NotFound("rule", id, "rule %s not found in domain %s", id, domain)
	} else if err != nil {
		return nil, err
	}
	var r Rule
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fmt.Errorf("rule %s: %w", id, err)
	}
	return &r, nil
}

// Delete removes the rule id of a domain; fault.NotFound if there is none.
func Delete(tx store.Tx, owner, domain, id string) error {
	err := tx.DeleteSetting(domainPrefix(owner, domain) + id)
	if errors.Is(err, fault.ErrNotFound) {
		return fault.NotFound("rule", id, "rule %s not found in domain %s", id, domain)
	}
	if err != nil {
		return err
	}
	return bumpRevision(tx)
}

// List returns the rules of a domain (every domain when domain is ""),
// ordered by domain then id.
func List(tx store.Tx, owner, domain string) ([]Rule, error) {
	prefix := settingPrefix
	if domain != "" {
		prefix = domainPrefix(owner, domain)
	}
	rows, err := tx.ListSettingsPrefix(prefix)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(rows))
	for _, row := range rows {
		var r Rule
		if err := json.Unmarshal([]byte(row.Value), &r); err != nil {
			return nil, fmt.Errorf("rule %s: %w", row.Key, err)
		}
		out = append(out, r)
	}
	return out, nil
}
