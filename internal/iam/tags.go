package iam

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"coffer/internal/auth"
	"coffer/internal/store"
)

// Tags of IAM users and roles: TagUser, UntagUser, ListUserTags, TagRole,
// UntagRole, ListRoleTags, and Tags on CreateUser and CreateRole. They live
// in the store's tag table under the entity's ARN and go with the entity.
// They are the principal's aws:PrincipalTag/<key> (PrincipalTags) and the
// resource's aws:ResourceTag/<key> when IAM actions target the entity. As
// in IAM, keys of user and role tags are case-insensitive, their case
// preserved: a tag replaces any tag whose key differs only in case.

// maxEntityTags is IAM's quota of tags per user or role.
const maxEntityTags = 50

var (
	pTagKey   = param{"Key", 1, 128, regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)}
	pTagValue = param{"Value", 0, 256, regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)}
)

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// xmlTags renders tags for a User or Role element: nil (left out) when there
// are none.
func xmlTags(tags []store.Tag) *list[xmlTag] {
	if len(tags) == 0 {
		return nil
	}
	l := &list[xmlTag]{}
	for _, t := range tags {
		l.Member = append(l.Member, xmlTag(t))
	}
	return l
}

// memberIndexes returns the indexes N of the form fields prefix.member.N...,
// which must run 1, 2, ... without gaps.
func (c *call) memberIndexes(prefix string) ([]int, error) {
	seen := map[int]bool{}
	for k := range c.form {
		rest, ok := strings.CutPrefix(k, prefix+".member.")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ".")
		i, err := strconv.Atoi(n)
		if err != nil || i < 1 {
			return nil, validationError("Invalid parameter %s", k)
		}
		seen[i] = true
	}
	out := make([]int, 0, len(seen))
	for i := 1; i <= len(seen); i++ {
		if !seen[i] {
			return nil, validationError("1 validation error detected: Value null at '%s.%d.member' failed to satisfy constraint: Member must not be null",
				strings.ToLower(prefix), i)
		}
		out = append(out, i)
	}
	return out, nil
}

// tagList reads Tags.member.N.Key/Value: at most 50, each valid, no key
// twice (ignoring case), none in the reserved aws: namespace. required says
// the operation needs the list (TagUser, TagRole).
func (c *call) tagList(required bool) ([]store.Tag, error) {
	idx, err := c.memberIndexes("Tags")
	if err != nil {
		return nil, err
	}
	if required && len(idx) == 0 && !c.form.Has("Tags") {
		return nil, missing(param{name: "Tags"})
	}
	if len(idx) > maxEntityTags {
		return nil, validationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxEntityTags)
	}
	tags := make([]store.Tag, 0, len(idx))
	seen := map[string]bool{}
	for _, i := range idx {
		var t store.Tag
		for _, f := range []struct {
			p   param
			dst *string
		}{{pTagKey, &t.Key}, {pTagValue, &t.Value}} {
			name := fmt.Sprintf("Tags.member.%d.%s", i, f.p.name)
			field := param{name: fmt.Sprintf("tags.%d.member.%s", i, strings.ToLower(f.p.name)), min: f.p.min, max: f.p.max, re: f.p.re}
			if !c.form.Has(name) {
				return nil, missing(field)
			}
			*f.dst = c.form.Get(name)
			if err := field.check(*f.dst); err != nil {
				return nil, err
			}
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, invalidInput("User-defined tag keys can't start with 'aws:'. This prefix is reserved for AWS tags.")
		}
		lk := strings.ToLower(t.Key)
		if seen[lk] {
			return nil, invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[lk] = true
		tags = append(tags, t)
	}
	return tags, nil
}

// tagKeyList reads TagKeys.member.N (UntagUser, UntagRole).
func (c *call) tagKeyList() ([]string, error) {
	idx, err := c.memberIndexes("TagKeys")
	if err != nil {
		return nil, err
	}
	if len(idx) == 0 && !c.form.Has("TagKeys") {
		return nil, missing(param{name: "TagKeys"})
	}
	if len(idx) > maxEntityTags {
		return nil, validationError("1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to %d", maxEntityTags)
	}
	keys := make([]string, 0, len(idx))
	for _, i := range idx {
		name := fmt.Sprintf("TagKeys.member.%d", i)
		field := param{name: fmt.Sprintf("tagKeys.%d.member", i), min: pTagKey.min, max: pTagKey.max, re: pTagKey.re}
		k := c.form.Get(name)
		if err := field.check(k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// tagMap is the request-tag form of tags (aws:RequestTag/<key>).
func tagMap(tags []store.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// putEntityTags adds tags to the entity arn in tx, replacing tags whose
// keys differ only in case, within the quota of quotaName.
func putEntityTags(tx store.Tx, arn, quotaName string, tags []store.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	have, err := tx.ListTags(arn)
	if err != nil {
		return err
	}
	var replaced []string
	count := len(have)
	for _, h := range have {
		for _, t := range tags {
			if strings.EqualFold(h.Key, t.Key) {
				replaced = append(replaced, h.Key)
				count--
				break
			}
		}
	}
	if count+len(tags) > maxEntityTags {
		return limitExceeded("Cannot exceed quota for %s: %d", quotaName, maxEntityTags)
	}
	if len(replaced) > 0 {
		if err := tx.DeleteTags(arn, replaced); err != nil {
			return err
		}
	}
	return tx.PutTags(arn, tags)
}

// deleteEntityTags removes the tags of a deleted entity.
func deleteEntityTags(tx store.Tx, arn string) error {
	have, err := tx.ListTags(arn)
	if err != nil || len(have) == 0 {
		return err
	}
	keys := make([]string, len(have))
	for i, t := range have {
		keys[i] = t.Key
	}
	return tx.DeleteTags(arn, keys)
}

func tagQuota(e *entity) string {
	return "TagsPer" + strings.ToUpper(e.kind[:1]) + e.kind[1:]
}

// tagEntity is TagUser / TagRole: authorized on the entity with the tags as
// aws:RequestTag/<key> and aws:TagKeys.
func (c *call) tagEntity(e *entity) (any, error) {
	tags, err := c.tagList(true)
	if err != nil {
		return nil, err
	}
	c.ctx = auth.WithRequestTags(c.ctx, tagMap(tags))
	name, arn, err := c.target(e)
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		if err := e.exists(tx, name, arn); err != nil {
			return err
		}
		return putEntityTags(tx, arn, tagQuota(e), tags)
	})
}

// untagEntity is UntagUser / UntagRole: authorized with the keys removed as
// aws:TagKeys. Keys match ignoring case; absent keys are ignored.
func (c *call) untagEntity(e *entity) (any, error) {
	keys, err := c.tagKeyList()
	if err != nil {
		return nil, err
	}
	c.ctx = auth.WithTagKeys(c.ctx, keys)
	name, arn, err := c.target(e)
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		if err := e.exists(tx, name, arn); err != nil {
			return err
		}
		have, err := tx.ListTags(arn)
		if err != nil {
			return err
		}
		var drop []string
		for _, h := range have {
			for _, k := range keys {
				if strings.EqualFold(h.Key, k) {
					drop = append(drop, h.Key)
					break
				}
			}
		}
		if len(drop) == 0 {
			return nil
		}
		return tx.DeleteTags(arn, drop)
	})
}

type listTagsResult struct {
	Tags list[xmlTag] `xml:"Tags"`
	paged
}

// listEntityTags is ListUserTags / ListRoleTags, paged by key.
func (c *call) listEntityTags(e *entity) (any, error) {
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	_, arn, err := c.target(e)
	if err != nil {
		return nil, err
	}
	var tags []store.Tag
	if err := c.read(func(tx store.Tx) error {
		tags, err = tx.ListTags(arn)
		return err
	}); err != nil {
		return nil, err
	}
	tags, pg := pageOf(tags, pr, func(t *store.Tag) string { return t.Key })
	res := listTagsResult{paged: pg}
	for _, t := range tags {
		res.Tags.Member = append(res.Tags.Member, xmlTag(t))
	}
	return res, nil
}

// entityTags returns the tags of a user or role ARN, remembered until the
// store's next write. The result is shared: callers must not change it.
func (id *Identity) entityTags(ctx context.Context, arn string) ([]store.Tag, error) {
	gen := id.meta.Generation()
	if tags, ok := id.tags.Get(arn, gen); ok {
		return tags, nil
	}
	var tags []store.Tag
	err := id.meta.Read(ctx, func(tx store.Tx) error {
		var err error
		tags, err = tx.ListTags(arn)
		return err
	})
	if err != nil {
		return nil, err
	}
	id.tags.Put(arn, gen, tags)
	return tags, nil
}

// PrincipalTags returns the tags that are p's aws:PrincipalTag/<key>: an
// IAM user's own tags; for a role session the role's tags, overridden by
// the session's tags with the same key (compared ignoring case, as IAM
// does); none for the root or for principals of other accounts. The result
// may be shared: callers must not change it.
func (id *Identity) PrincipalTags(ctx context.Context, p *auth.Principal) (map[string]string, error) {
	if p == nil || p.Account != id.accountID {
		return nil, nil
	}
	var arn string
	switch p.Type {
	case auth.TypeUser:
		arn = p.ARN
	case auth.TypeAssumedRole:
		arn = p.RoleARN
	}
	var tags []store.Tag
	if arn != "" {
		var err error
		if tags, err = id.entityTags(ctx, arn); err != nil {
			return nil, err
		}
	}
	if len(tags) == 0 && len(p.SessionTags) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(tags)+len(p.SessionTags))
	for _, t := range tags {
		out[t.Key] = t.Value
	}
	// Session tags win; iterate them in a fixed order so that two session
	// tags differing only in case resolve the same way every time.
	keys := make([]string, 0, len(p.SessionTags))
	for k := range p.SessionTags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for have := range out {
			if strings.EqualFold(have, k) {
				delete(out, have)
			}
		}
		out[k] = p.SessionTags[k]
	}
	return out, nil
}

// resourceTags returns the tags of an IAM user or role of this account
// named by arn (aws:ResourceTag/<key> of IAM actions on it), none for other
// resources.
func (id *Identity) resourceTags(ctx context.Context, arn string) ([]store.Tag, error) {
	if _, _, ok := id.splitARN(arn, "user"); !ok {
		if _, _, ok := id.splitARN(arn, "role"); !ok {
			return nil, nil
		}
	}
	return id.entityTags(ctx, arn)
}
