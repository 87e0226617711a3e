package iam

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"time"

	"coffer/internal/auth"
	"coffer/internal/auth/sigv4"
	"coffer/internal/fault"
	"coffer/internal/store"
)

const (
	statusActive   = "Active"
	statusInactive = "Inactive"

	// lastUsedEvery bounds LastUsed writes to one per key per minute: the
	// value only answers GetAccessKeyLastUsed, which needs no finer grain.
	lastUsedEvery = time.Minute
	maxTouched    = 4096
)

// keyInfo is the principal data kept with an access key, as JSON in
// store.AccessKey.Principal. The ids pin the key to the very user or role
// it was made for: one deleted and re-created under the same name is
// another principal, and the key no longer works.
type keyInfo struct {
	Type        string `json:"type"`
	UserName    string `json:"userName,omitempty"`
	UserID      string `json:"userId,omitempty"`
	RoleName    string `json:"roleName,omitempty"`
	RoleID      string `json:"roleId,omitempty"`
	SessionName string `json:"sessionName,omitempty"`
	// Web-identity sessions: the provider ARN, the session tags and which
	// of them are transitive, and the source identity, from the token.
	Federated         string            `json:"federated,omitempty"`
	SessionTags       map[string]string `json:"sessionTags,omitempty"`
	TransitiveTagKeys []string          `json:"transitiveTagKeys,omitempty"`
	SourceIdentity    string            `json:"sourceIdentity,omitempty"`
}

// rootKeyInfo is the Principal of root keys (older ones have "").
var rootKeyInfo = mustJSON(keyInfo{Type: auth.TypeAccount})

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Lookup finds the credential of an access key, for the SigV4 verifier:
// root keys, IAM user keys and role-session keys (which carry their session
// token and expiry). Inactive keys, and keys whose user or role is gone, are
// fault.ErrNotFound.
func (id *Identity) Lookup(ctx context.Context, accessKeyID string) (*sigv4.Credential, error) {
	k, p, err := id.activeKey(ctx, accessKeyID)
	if err != nil {
		return nil, err
	}
	secret, err := id.sealer.Open(k.SecretEncrypted, sealAccessKey)
	if err != nil {
		return nil, fault.Internal(err, "cannot read the secret of access key %s", accessKeyID)
	}
	cred := &sigv4.Credential{SecretAccessKey: string(secret), Principal: p}
	if len(k.SessionToken) > 0 {
		tok, err := id.sealer.Open(k.SessionToken, sealSessionToken)
		if err != nil {
			return nil, fault.Internal(err, "cannot read the session token of access key %s", accessKeyID)
		}
		cred.SessionToken = string(tok)
	}
	id.touch(k)
	return cred, nil
}

// activeKeyEntry is what activeKey remembers of a key.
type activeKeyEntry struct {
	key       store.AccessKey
	principal auth.Principal
}

// activeKey reads an access key and the principal it stands for. The
// results are copies the caller may change.
func (id *Identity) activeKey(ctx context.Context, accessKeyID string) (*store.AccessKey, *auth.Principal, error) {
	gen := id.meta.Generation()
	if e, ok := id.keys.Get(accessKeyID, gen); ok {
		e.principal.SessionTags = maps.Clone(e.principal.SessionTags)
		return &e.key, &e.principal, nil
	}
	var k *store.AccessKey
	var p *auth.Principal
	err := id.meta.Read(ctx, func(tx store.Tx) error {
		var err error
		if k, err = tx.GetAccessKey(accessKeyID); err != nil {
			return err
		}
		p, err = id.keyPrincipal(tx, k)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	id.keys.Put(accessKeyID, gen, activeKeyEntry{key: *k, principal: *p})
	p.SessionTags = maps.Clone(p.SessionTags)
	return k, p, nil
}

// keyPrincipal builds the principal of an active key, checking that its
// user or role still exists.
func (id *Identity) keyPrincipal(tx store.Tx, k *store.AccessKey) (*auth.Principal, error) {
	gone := fault.NotFound("access-key", k.AccessKeyID, "access key %s is not valid", k.AccessKeyID)
	if k.Status != statusActive {
		return nil, gone
	}
	var info keyInfo
	if k.Principal != "" {
		if err := json.Unmarshal([]byte(k.Principal), &info); err != nil {
			return nil, fault.Internal(err, "access key %s has unreadable principal data", k.AccessKeyID)
		}
	} else if k.PrincipalARN == id.RootARN() {
		info.Type = auth.TypeAccount
	}
	p := &auth.Principal{ARN: k.PrincipalARN, Account: id.accountID, Type: info.Type, AccessKeyID: k.AccessKeyID}
	switch info.Type {
	case auth.TypeAccount:
		if k.PrincipalARN != id.RootARN() {
			return nil, gone
		}
		p.UserID = id.accountID
	case auth.TypeUser:
		u, err := tx.GetUser(info.UserName)
		if errors.Is(err, fault.ErrNotFound) || err == nil && u.UserID != info.UserID {
			return nil, gone
		} else if err != nil {
			return nil, err
		}
		p.ARN, p.UserID, p.Username = u.ARN, u.UserID, u.Name
	case auth.TypeAssumedRole:
		r, err := tx.GetRole(info.RoleName)
		if errors.Is(err, fault.ErrNotFound) || err == nil && r.RoleID != info.RoleID {
			return nil, gone
		} else if err != nil {
			return nil, err
		}
		p.UserID, p.RoleARN, p.SessionExpiry = info.RoleID+":"+info.SessionName, r.ARN, k.Expiration
		p.Federated, p.SessionTags = info.Federated, info.SessionTags
	default:
		return nil, gone
	}
	return p, nil
}

// touch records that a key was used, at most once per lastUsedEvery and off
// the request path.
func (id *Identity) touch(k *store.AccessKey) {
	now := id.now()
	if now.Sub(k.LastUsed) < lastUsedEvery {
		return
	}
	id.touchMu.Lock()
	if t, ok := id.touched[k.AccessKeyID]; ok && now.Sub(t) < lastUsedEvery {
		id.touchMu.Unlock()
		return
	}
	if len(id.touched) >= maxTouched {
		clear(id.touched)
	}
	id.touched[k.AccessKeyID] = now
	id.touchMu.Unlock()

	akid := k.AccessKeyID
	id.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Read and write in one transaction so that a concurrent status
		// change is never overwritten with the status read here.
		err := id.meta.Write(ctx, func(tx store.Tx) error {
			k, err := tx.GetAccessKey(akid)
			if err != nil || now.Sub(k.LastUsed) < lastUsedEvery {
				return err
			}
			k.LastUsed = now
			return tx.UpdateAccessKey(k)
		})
		if err != nil && !errors.Is(err, fault.ErrNotFound) {
			id.log.Debug("cannot record access key use", "access_key_id", akid, "err", err)
		}
	})
}
