// Package iam holds the identities of an installation: the account, its root
// access key, IAM users, groups, roles and managed policies, OpenID Connect
// providers, role sessions from sts:AssumeRole and
// sts:AssumeRoleWithWebIdentity, and the authorization tokens minted for
// package clients. It serves the IAM and STS Query APIs (IAMHandler, STSHandler),
// resolves access keys for the SigV4 verifier (Lookup) and tells the
// authorizer which identity policies apply to a principal (IdentityPolicies).
package iam

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"

	"coffer/internal/auth/policy"
	"coffer/internal/auth/seal"
	"coffer/internal/auth/token"
	"coffer/internal/auth/webidentity"
	"coffer/internal/fault"
	"coffer/internal/gencache"
	"coffer/internal/store"
)

// Setting keys in the metadata store.
const (
	settingAccountID = "account-id"
	settingTokenKey  = "token-key" // sealed with the master key
	sealAccessKey    = "access-key-secret"
	sealTokenKey     = "token-key"
	sealSessionToken = "session-token"
)

// RootCredentialsFile is the name of the root credentials file in the data dir.
const RootCredentialsFile = "root-credentials"

// Identity manages the account's principals and keys.
type Identity struct {
	meta      store.Store
	sealer    *seal.Sealer
	accountID string
	tokens    *token.Issuer
	web       *webidentity.Verifier // web-identity tokens (AssumeRoleWithWebIdentity)
	log       *slog.Logger
	now       func() time.Time

	parsed policyCache
	// keys and policies skip the database on the hot path of every request
	// until the store commits a write (package gencache).
	keys     *gencache.Cache[string, activeKeyEntry]
	policies *gencache.Cache[string, []policy.Labeled]
	tags     *gencache.Cache[string, []store.Tag] // user and role tags by ARN

	touchMu sync.Mutex
	touched map[string]time.Time // access key id -> last LastUsed write
	bg      sync.WaitGroup       // LastUsed writes in flight
}

// Options configure Open.
type Options struct {
	// AccountID is the configured account id; "" keeps the stored one, or
	// generates one on first start.
	AccountID string
	// DataDir receives the root credentials file on first start.
	DataDir string
	// RootAccessKeyID and RootSecretAccessKey, when both set, are the root key.
	RootAccessKeyID     string
	RootSecretAccessKey string
	// WebIdentity tunes the verification of web-identity tokens (the
	// zero value: system trust store, default limits).
	WebIdentity webidentity.Config
}

// Open loads (or on first start creates) the account, the root access key and
// the token key.
func Open(ctx context.Context, meta store.Store, sealer *seal.Sealer, opts Options, log *slog.Logger) (*Identity, error) {
	id := &Identity{meta: meta, sealer: sealer, log: log, now: func() time.Time { return time.Now().UTC() },
		touched: make(map[string]time.Time),
		keys:    gencache.New[string, activeKeyEntry](4096), policies: gencache.New[string, []policy.Labeled](4096),
		tags: gencache.New[string, []store.Tag](4096)}
	id.web = webidentity.New(opts.WebIdentity)
	var tokenKey []byte
	var newRootSecret string
	err := meta.Write(ctx, func(tx store.Tx) error {
		acct, err := ensureAccount(tx, opts.AccountID)
		if err != nil {
			return err
		}
		id.accountID = acct
		if tokenKey, err = id.ensureTokenKey(tx); err != nil {
			return err
		}
		newRootSecret, err = id.ensureRootKey(tx, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	if id.tokens, err = token.NewIssuer(tokenKey); err != nil {
		return nil, err
	}
	if newRootSecret != "" {
		path := filepath.Join(opts.DataDir, RootCredentialsFile)
		if err := writeRootCredentials(path, newRootAccessKeyID(ctx, id), newRootSecret); err != nil {
			return nil, err
		}
		log.Info("created the root access key; its credentials are in the root credentials file", "path", path, "profile", "coffer")
	}
	return id, nil
}

// AccountID returns the installation's account id.
func (id *Identity) AccountID() string { return id.accountID }

// RootARN is the account root's ARN.
func (id *Identity) RootARN() string { return "arn:aws:iam::" + id.accountID + ":root" }

func ensureAccount(tx store.Tx, configured string) (string, error) {
	stored, err := tx.GetSetting(settingAccountID)
	if err != nil && !errors.Is(err, fault.ErrNotFound) {
		return "", err
	}
	switch {
	case configured != "" && stored != "" && configured != stored:
		return "", fmt.Errorf("account-id %s differs from the account %s this data dir belongs to", configured, stored)
	case stored != "":
		return stored, nil
	case configured == "":
		n, err := rand.Int(rand.Reader, big.NewInt(9e11))
		if err != nil {
			return "", err
		}
		configured = fmt.Sprintf("%012d", n.Int64()+1e11) // never a leading zero
	}
	return configured, tx.PutSetting(settingAccountID, configured)
}

// ErrMasterKeyMismatch is returned by Open when the master key cannot open
// the secrets already in the metadata store: a node of a cluster started
// with another key than the one the store was created with.
var ErrMasterKeyMismatch = errors.New("the master key cannot open the secrets stored in the metadata store: " +
	"every node must use the master key the store was first used with (COFFER_MASTER_KEY or --master-key-file)")

func (id *Identity) ensureTokenKey(tx store.Tx) ([]byte, error) {
	stored, err := tx.GetSetting(settingTokenKey)
	if err == nil {
		key, err := id.sealer.Open([]byte(stored), sealTokenKey)
		if err != nil {
			return nil, fmt.Errorf("%w (%v)", ErrMasterKeyMismatch, err)
		}
		return key, nil
	}
	if !errors.Is(err, fault.ErrNotFound) {
		return nil, err
	}
	key, err := token.GenerateKey()
	if err != nil {
		return nil, err
	}
	return key, tx.PutSetting(settingTokenKey, string(id.sealer.Seal(key, sealTokenKey)))
}

// ensureRootKey makes sure a root key exists; it returns the secret of a key
// it generated (to be written to the credentials file), else "".
func (id *Identity) ensureRootKey(tx store.Tx, opts Options) (string, error) {
	if opts.RootAccessKeyID != "" && opts.RootSecretAccessKey != "" {
		return "", id.putRootKey(tx, opts.RootAccessKeyID, opts.RootSecretAccessKey)
	}
	keys, err := tx.ListAccessKeys(id.RootARN())
	if err != nil || len(keys) > 0 {
		return "", err
	}
	akid, secret := "AKIA"+randomString(16, upperDigits), randomString(40, secretChars)
	return secret, id.putRootKey(tx, akid, secret)
}

// putRootKey stores the configured root key, replacing a stored key with the
// same id (UpdateAccessKey changes only status and last use, so a changed
// secret needs a fresh record).
func (id *Identity) putRootKey(tx store.Tx, akid, secret string) error {
	k, err := tx.GetAccessKey(akid)
	switch {
	case err == nil:
		if s, err := id.sealer.Open(k.SecretEncrypted, sealAccessKey); err == nil && string(s) == secret &&
			k.PrincipalARN == id.RootARN() && k.Status == statusActive && k.Principal == rootKeyInfo {
			return nil
		}
		if err := tx.DeleteAccessKey(akid); err != nil {
			return err
		}
	case !errors.Is(err, fault.ErrNotFound):
		return err
	}
	return tx.CreateAccessKey(&store.AccessKey{AccessKeyID: akid, SecretEncrypted: id.sealer.Seal([]byte(secret), sealAccessKey),
		PrincipalARN: id.RootARN(), Status: statusActive, CreatedTime: id.now(), Principal: rootKeyInfo})
}

// newRootAccessKeyID returns the root key id just created.
func newRootAccessKeyID(ctx context.Context, id *Identity) string {
	var akid string
	_ = id.meta.Read(ctx, func(tx store.Tx) error {
		keys, err := tx.ListAccessKeys(id.RootARN())
		if err == nil && len(keys) > 0 {
			akid = keys[0].AccessKeyID
		}
		return err
	})
	return akid
}

func writeRootCredentials(path, akid, secret string) error {
	body := fmt.Sprintf("[coffer]\naws_access_key_id = %s\naws_secret_access_key = %s\n", akid, secret)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

const (
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		x, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}
