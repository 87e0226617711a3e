package artifact

import (
	"context"
	"errors"
	"unicode"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// MaxTags is the number of tags a resource may carry.
const MaxTags = 200

func validateTags(tags []store.Tag) error {
	if len(tags) > MaxTags {
		return fault.Validation("Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", MaxTags)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if err := validateTagKey(t.Key); err != nil {
			return err
		}
		if len(t.Value) > 256 {
			return fault.Validation("Value at 'tags.value' failed to satisfy constraint: Member must have length less than or equal to 256")
		}
		if seen[t.Key] {
			return fault.Validation("Tag key '%s' is given more than once", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func validateTagKey(k string) error {
	if k == "" || len(k) > 128 {
		return fault.Validation("Value '%s' at 'tags.key' failed to satisfy constraint: Member must have length between 1 and 128", k)
	}
	return nil
}

func validateDescription(d string) error {
	if len(d) > 1000 {
		return fault.Validation("Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	for _, r := range d {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return fault.Validation("Value at 'description' failed to satisfy constraint: Member must not contain control characters")
		}
	}
	return nil
}

func validatePrefix(field, p string, max int) error {
	if len(p) > max {
		return fault.Validation("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", p, field, max)
	}
	return nil
}

// taggable checks that arn names an existing domain, repository or package
// group of this installation and returns the ARN tags are kept under (a
// package group's in its canonical form).
func (s *Service) taggable(tx store.Tx, arn string) (string, error) {
	p, ok := ParseResourceARN(arn)
	if ok && p.Type == "package-group" {
		return s.taggableGroup(tx, arn)
	}
	if !ok || p.Type == "package" || p.Region != s.cfg.Region {
		return "", fault.Validation("Value '%s' at 'resourceArn' is not the ARN of a domain, repository or package group in region %s", arn, s.cfg.Region)
	}
	ref := DomainRef{Owner: p.Account, Name: p.Domain}
	var err error
	if p.Type == "domain" {
		_, err = s.findDomain(tx, ref)
	} else {
		_, _, err = s.findRepository(tx, RepoRef{DomainRef: ref, Repository: p.Repository})
	}
	if errors.Is(err, fault.ErrValidation) {
		return "", fault.Validation("Value '%s' at 'resourceArn' is not a valid resource ARN: %v", arn, err)
	}
	return arn, err
}

// TagResource adds or overwrites tags on a domain, repository or package group.
func (s *Service) TagResource(ctx context.Context, arn string, tags []store.Tag) error {
	if err := validateTags(tags); err != nil {
		return err
	}
	return s.meta.Write(ctx, func(tx store.Tx) error {
		arn, err := s.taggable(tx, arn)
		if err != nil {
			return err
		}
		have, err := tx.ListTags(arn)
		if err != nil {
			return err
		}
		keys := map[string]bool{}
		for _, t := range have {
			keys[t.Key] = true
		}
		for _, t := range tags {
			keys[t.Key] = true
		}
		if len(keys) > MaxTags {
			// The quota is the tagged resource's; "tag" is no resource type.
			p, _ := ParseResourceARN(arn)
			return fault.Quota(p.Type, arn, "A resource can have at most %d tags", MaxTags)
		}
		return tx.PutTags(arn, tags)
	})
}

// UntagResource removes tags by key; absent keys are ignored.
func (s *Service) UntagResource(ctx context.Context, arn string, keys []string) error {
	for _, k := range keys {
		if err := validateTagKey(k); err != nil {
			return err
		}
	}
	return s.meta.Write(ctx, func(tx store.Tx) error {
		arn, err := s.taggable(tx, arn)
		if err != nil {
			return err
		}
		return tx.DeleteTags(arn, keys)
	})
}

// ListTagsForResource returns the tags of a domain, repository or package group.
func (s *Service) ListTagsForResource(ctx context.Context, arn string) ([]store.Tag, error) {
	var out []store.Tag
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		arn, err := s.taggable(tx, arn)
		if err != nil {
			return err
		}
		out, err = tx.ListTags(arn)
		return err
	})
	return out, err
}

// ResourceTags returns the tags of a resource ARN without checking it exists
// (for aws:ResourceTag condition keys).
func (s *Service) ResourceTags(ctx context.Context, arn string) ([]store.Tag, error) {
	var out []store.Tag
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListTags(arn)
		return err
	})
	return out, err
}
