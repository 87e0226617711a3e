package iam

import (
	"encoding/json"
	"errors"

	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// maxKeysPerUser is IAM's quota of access keys per user (and for the root).
const maxKeysPerUser = 2

// keyOwner is whose long-term keys a call is about: the named user, or
// without UserName the caller (its own user, or the root's keys).
type keyOwner struct {
	arn      string
	userName string // "" for the root
}

func (c *call) keyOwner() (keyOwner, error) {
	if c.form.Get(pUserName.name) == "" {
		switch c.p.Type {
		case auth.TypeAccount:
			return keyOwner{arn: c.id.RootARN()}, c.authorize(c.id.RootARN())
		case auth.TypeUser:
			c.form.Set(pUserName.name, c.p.Username)
		default:
			return keyOwner{}, validationError("Must specify userName when calling with non-User credentials")
		}
	}
	name, arn, err := c.target(userEntity)
	return keyOwner{arn: arn, userName: name}, err
}

// ownedKey reads an access key of the owner; another's key is as missing as
// one that does not exist.
func ownedKey(tx store.Tx, o keyOwner, akid string) (*store.AccessKey, error) {
	k, err := tx.GetAccessKey(akid)
	if errors.Is(err, fault.ErrNotFound) || err == nil && (k.PrincipalARN != o.arn || len(k.SessionToken) > 0) {
		return nil, noSuchEntity("The Access Key with id %s cannot be found.", akid)
	}
	return k, err
}

type createAccessKeyResult struct {
	AccessKey xmlAccessKey `xml:"AccessKey"`
}

// createAccessKey makes a long-term key; its secret is returned only here.
func (c *call) createAccessKey() (any, error) {
	o, err := c.keyOwner()
	if err != nil {
		return nil, err
	}
	secret := randomString(40, secretChars)
	k := &store.AccessKey{AccessKeyID: "AKIA" + randomString(16, upperDigits), SecretEncrypted: c.id.sealer.Seal([]byte(secret), sealAccessKey),
		PrincipalARN: o.arn, Status: statusActive, CreatedTime: c.id.now(), Principal: rootKeyInfo}
	err = c.write(func(tx store.Tx) error {
		if o.userName != "" {
			u, err := tx.GetUser(o.userName)
			if err != nil || u.ARN != o.arn {
				return notFound(err, func() error { return userEntity.missing(o.userName) })
			}
			k.Principal = mustJSON(keyInfo{Type: auth.TypeUser, UserName: u.Name, UserID: u.UserID})
		}
		keys, err := tx.ListAccessKeys(o.arn)
		if err != nil {
			return err
		}
		if len(keys) >= maxKeysPerUser {
			return limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
		}
		return tx.CreateAccessKey(k)
	})
	if err != nil {
		return nil, err
	}
	return createAccessKeyResult{xmlAccessKey{UserName: o.userName, AccessKeyID: k.AccessKeyID, Status: k.Status,
		SecretAccessKey: secret, CreateDate: isoTime(k.CreatedTime)}}, nil
}

type listAccessKeysResult struct {
	AccessKeyMetadata list[xmlAccessKey] `xml:"AccessKeyMetadata"`
	paged
}

func (c *call) listAccessKeys() (any, error) {
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	o, err := c.keyOwner()
	if err != nil {
		return nil, err
	}
	var keys []store.AccessKey
	err = c.read(func(tx store.Tx) error {
		keys, err = tx.ListAccessKeys(o.arn)
		return err
	})
	if err != nil {
		return nil, err
	}
	keys, pg := pageOf(keys, pr, func(k *store.AccessKey) string { return k.AccessKeyID })
	res := listAccessKeysResult{paged: pg}
	for _, k := range keys {
		res.AccessKeyMetadata.Member = append(res.AccessKeyMetadata.Member,
			xmlAccessKey{UserName: o.userName, AccessKeyID: k.AccessKeyID, Status: k.Status, CreateDate: isoTime(k.CreatedTime)})
	}
	return res, nil
}

func (c *call) updateAccessKey() (any, error) {
	akid, err := c.required(pAccessKeyID)
	if err != nil {
		return nil, err
	}
	status := c.form.Get("Status")
	if status != statusActive && status != statusInactive {
		if !c.form.Has("Status") {
			return nil, missing(param{name: "Status"})
		}
		return nil, validationError("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	o, err := c.keyOwner()
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		k, err := ownedKey(tx, o, akid)
		if err != nil {
			return err
		}
		k.Status = status
		return tx.UpdateAccessKey(k)
	})
}

func (c *call) deleteAccessKey() (any, error) {
	akid, err := c.required(pAccessKeyID)
	if err != nil {
		return nil, err
	}
	o, err := c.keyOwner()
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		if _, err := ownedKey(tx, o, akid); err != nil {
			return err
		}
		return tx.DeleteAccessKey(akid)
	})
}

type accessKeyLastUsed struct {
	LastUsedDate string `xml:"LastUsedDate,omitempty"`
	ServiceName  string `xml:"ServiceName"`
	Region       string `xml:"Region"`
}

type getAccessKeyLastUsedResult struct {
	UserName          string            `xml:"UserName"`
	AccessKeyLastUsed accessKeyLastUsed `xml:"AccessKeyLastUsed"`
}

// getAccessKeyLastUsed reports when a long-term key was last used. The
// service and region of that use are not recorded, so they read "N/A" as
// IAM reports a key never used.
func (c *call) getAccessKeyLastUsed() (any, error) {
	akid, err := c.required(pAccessKeyID)
	if err != nil {
		return nil, err
	}
	var k *store.AccessKey
	err = c.read(func(tx store.Tx) error {
		k, err = tx.GetAccessKey(akid)
		return err
	})
	if err == nil && len(k.SessionToken) > 0 {
		err = fault.ErrNotFound
	}
	if err != nil {
		return nil, notFound(err, func() error { return noSuchEntity("The Access Key with id %s cannot be found.", akid) })
	}
	var info keyInfo
	_ = json.Unmarshal([]byte(k.Principal), &info)
	user := info.UserName
	if k.PrincipalARN == c.id.RootARN() {
		user = "root"
	}
	if err := c.authorize(k.PrincipalARN); err != nil {
		return nil, err
	}
	res := getAccessKeyLastUsedResult{UserName: user, AccessKeyLastUsed: accessKeyLastUsed{ServiceName: "N/A", Region: "N/A"}}
	if !k.LastUsed.IsZero() {
		res.AccessKeyLastUsed.LastUsedDate = isoTime(k.LastUsed)
	}
	return res, nil
}
