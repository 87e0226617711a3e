package migrate

import (
	"errors"
	"fmt"

	"coffer/internal/fault"
)

// settingAccountID is the setting holding the account id (package iam owns
// the settings; the root principal's ARN is derived from this one).
const settingAccountID = "account-id"

// settings copies every installation-wide setting: the account id, the
// sealed token key and whatever else the service keeps there. Settings are
// upserts, so a target value is checked first: an equal one is left alone,
// another one is a collision (two deployments' accounts or keys must never
// be mixed).
func (c *copier) settings() error {
	all, err := c.src.ListSettings()
	if err != nil {
		return fmt.Errorf("list settings: %w", err)
	}
	for _, s := range all {
		have, err := c.dst.GetSetting(s.Key)
		switch {
		case err == nil && have == s.Value:
			c.counts.Settings++
			continue
		case err == nil:
			return fault.Conflict("setting", s.Key, "setting %s: the target already holds another value", s.Key)
		case !errors.Is(err, fault.ErrNotFound):
			return fmt.Errorf("setting %s: %w", s.Key, err)
		}
		if err := c.dst.PutSetting(s.Key, s.Value); err != nil {
			return fmt.Errorf("setting %s: %w", s.Key, err)
		}
		c.counts.Settings++
	}
	return nil
}
