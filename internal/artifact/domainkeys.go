package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"coffer/internal/fault"
)

// A domain's encryptionKey. Coffer has no KMS: the key is a label that a
// domain keeps and reports, in the form AWS reports it, the key ARN
// arn:aws:kms:<region>:<account>:key/<key-id>. CreateDomain accepts what the
// model allows (a key id, a key ARN, an alias name or an alias ARN) and
// stores a key ARN: a key ARN as given, a key id in this account, and an
// alias as the key it stands for, whose id coffer derives from the alias
// ARN (alias resolution is KMS's job; the derivation keeps it stable). With
// no key a domain gets the account's default key, the one the alias
// aws/codeartifact stands for, as AWS uses its managed key.

const (
	defaultKeyAlias = "alias/aws/codeartifact"
	// legacyKeyAlias is what earlier releases stored for "no key given".
	legacyKeyAlias = "alias/coffer/default"
	// reasonEncryptionKey is the model's ValidationExceptionReason for a
	// key that cannot be used.
	reasonEncryptionKey = "ENCRYPTION_KEY_ERROR"
)

var (
	kmsKeyID    = regexp.MustCompile(`^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	kmsAlias    = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]{1,250}$`)
	kmsResource = regexp.MustCompile(`^arn:aws:kms:([a-z0-9-]+):([0-9]{12}):(.+)$`)
)

// encryptionKeyARN turns CreateDomain's encryptionKey into the key ARN the
// domain stores.
func (s *Service) encryptionKeyARN(given string) (string, error) {
	if given == "" {
		return s.aliasKeyARN(s.cfg.AccountID, defaultKeyAlias), nil
	}
	if kmsKeyID.MatchString(given) {
		return s.keyARN(s.cfg.AccountID, given), nil
	}
	if kmsAlias.MatchString(given) {
		return s.aliasKeyARN(s.cfg.AccountID, given), nil
	}
	if m := kmsResource.FindStringSubmatch(given); m != nil {
		if m[1] != s.cfg.Region {
			return "", keyError("The encryption key %s is not in region %s; a domain's key must be in its region", given, s.cfg.Region)
		}
		if id, ok := strings.CutPrefix(m[3], "key/"); ok && kmsKeyID.MatchString(id) {
			return given, nil
		}
		if kmsAlias.MatchString(m[3]) {
			return s.aliasKeyARN(m[2], m[3]), nil
		}
	}
	return "", keyError("The encryption key %s is not a KMS key id, key ARN, alias name or alias ARN", given)
}

// storedKeyARN is the key ARN of a stored encryptionKey: what earlier
// releases stored (an alias ARN) is shown as the key it stands for.
func (s *Service) storedKeyARN(stored string) string {
	m := kmsResource.FindStringSubmatch(stored)
	if m == nil || !kmsAlias.MatchString(m[3]) {
		return stored
	}
	alias := m[3]
	if alias == legacyKeyAlias {
		alias = defaultKeyAlias
	}
	return s.aliasKeyARN(m[2], alias)
}

func (s *Service) keyARN(account, id string) string {
	return "arn:aws:kms:" + s.cfg.Region + ":" + account + ":key/" + id
}

// aliasKeyARN is the key ARN that alias stands for in account: its id is a
// UUID (version 8, name-based) made from the alias ARN.
func (s *Service) aliasKeyARN(account, alias string) string {
	sum := sha256.Sum256([]byte("arn:aws:kms:" + s.cfg.Region + ":" + account + ":" + alias))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return s.keyARN(account, h[0:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:32])
}

func keyError(format string, args ...any) error {
	e := fault.Validation(format, args...)
	e.Reason = reasonEncryptionKey
	return e
}

// bucketStore is a blob store kept in an S3 bucket (blob/s3).
type bucketStore interface{ Bucket() string }

// AssetStoreARN is a domain's s3BucketArn: the ARN of the bucket that holds
// its assets. With S3 blobs that is the real bucket, arn:aws:s3:::<bucket>
// (every domain shares it, assets deduplicated by digest). Other blob stores
// have no bucket; the ARN then names the installation's store the way AWS
// names its per-account asset buckets, arn:aws:s3:::coffer-assets-<owner>-<region>,
// which is a valid bucket name and stable across restarts and nodes.
func (s *Service) AssetStoreARN(owner string) string {
	if b, ok := s.blobs.(bucketStore); ok && b.Bucket() != "" {
		return "arn:aws:s3:::" + b.Bucket()
	}
	return "arn:aws:s3:::coffer-assets-" + owner + "-" + s.cfg.Region
}
