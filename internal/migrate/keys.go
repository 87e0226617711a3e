package migrate

import (
	"errors"
	"fmt"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// accessKeys copies the long-term access keys: the root's and every IAM
// user's, found by principal ARN, which is how the store lists them. Their
// secrets stay sealed by the master key, verbatim.
//
// Temporary keys of assumed-role sessions are not copied: their principal
// ARNs name free-form session names that no listing enumerates, and they
// expire within hours anyway; their holders assume the role again.
func (c *copier) accessKeys() error {
	account, err := c.src.GetSetting(settingAccountID)
	switch {
	case err == nil:
		if err := c.keysOf("arn:aws:iam::" + account + ":root"); err != nil {
			return err
		}
	case !errors.Is(err, fault.ErrNotFound):
		return fmt.Errorf("account id: %w", err)
	}
	return page(c, func(p store.Page) ([]store.IAMUser, error) { return c.src.ListUsers("", p) }, userKey,
		func(u *store.IAMUser) error { return c.keysOf(u.ARN) })
}

func (c *copier) keysOf(principalARN string) error {
	keys, err := c.src.ListAccessKeys(principalARN)
	if err != nil {
		return fmt.Errorf("access keys of %s: %w", principalARN, err)
	}
	for i := range keys {
		if err := c.dst.CreateAccessKey(&keys[i]); err != nil {
			return fmt.Errorf("access key %s of %s: %w", keys[i].AccessKeyID, principalARN, err)
		}
		c.counts.AccessKeys++
	}
	return nil
}
