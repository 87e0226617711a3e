package storetest

import (
	"testing"
	"time"

	"coffer/internal/store"
)

func testTags(t *testing.T, s store.Store) {
	const repo = "arn:aws:codeartifact:us-east-1:111122223333:repository/acme/main"
	list := func(arn string) []store.Tag {
		t.Helper()
		return get(t, s, func(tx store.Tx) ([]store.Tag, error) { return tx.ListTags(arn) })
	}
	count := func(arn string) int {
		t.Helper()
		return get(t, s, func(tx store.Tx) (int, error) { return tx.CountTags(arn) })
	}
	check(t, "tags of an untagged resource", len(list(repo)), 0)
	check(t, "count of an untagged resource", count(repo), 0)

	mustWrite(t, s, func(tx store.Tx) error {
		return tx.PutTags(repo, []store.Tag{{Key: "team", Value: "core"}, {Key: "env", Value: "prod"}, {Key: "empty", Value: ""}})
	})
	check(t, "tags", list(repo), tags("empty", "", "env", "prod", "team", "core"))
	mustWrite(t, s, func(tx store.Tx) error {
		return tx.PutTags(repo, []store.Tag{{Key: "env", Value: "dev"}, {Key: "cost", Value: "42"}})
	})
	check(t, "upserted tags", list(repo), tags("cost", "42", "empty", "", "env", "dev", "team", "core"))
	check(t, "count", count(repo), 4)

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteTags(repo, []string{"env", "missing", "empty"}) })
	check(t, "tags after delete", list(repo), tags("cost", "42", "team", "core"))

	// DeleteAllTags removes by ARN prefix, taken literally.
	// "a/b0" and "x&" are the first strings past the prefixes "a/b/" and "x%".
	arns := []string{"a/b", "a/b/c", "a/b/d", "a/b0", "a/bc", "a/c", "x%/1", "x&", "x_/1", "xy/1"}
	for _, arn := range arns {
		mustWrite(t, s, func(tx store.Tx) error { return tx.PutTags(arn, []store.Tag{{Key: "k", Value: arn}}) })
	}
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteAllTags("a/b/") })
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteAllTags("x%") })
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteAllTags("x_") })
	for _, arn := range arns {
		want := 1
		switch arn {
		case "a/b/c", "a/b/d", "x%/1", "x_/1":
			want = 0
		}
		check(t, "tags of "+arn+" after prefix delete", count(arn), want)
	}
	check(t, "count of another resource", count(repo), 2)
}

func testAccessKeys(t *testing.T, s store.Store) {
	const user = "arn:aws:iam::111122223333:user/alice"
	k := &store.AccessKey{AccessKeyID: "AKIAEXAMPLE00000002", SecretEncrypted: []byte{0, 1, 2, 0xfe, 0xff},
		PrincipalARN: user, Status: "Active", CreatedTime: at(0), SessionToken: []byte{0, 9, 8, 0xff, 0},
		Expiration: at(3600), LastUsed: at(60), Principal: `{"userName":"alice"}`}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateAccessKey(k) })
	got := get(t, s, func(tx store.Tx) (*store.AccessKey, error) { return tx.GetAccessKey(k.AccessKeyID) })
	check(t, "GetAccessKey", normKey(*got), *k)
	dup := *k
	wantConflict(t, "duplicate access key", writeErr(t, s, func(tx store.Tx) error { return tx.CreateAccessKey(&dup) }))
	wantNotFound(t, "missing access key", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetAccessKey("AKIANOPE")) }))

	// A long-term key: no secret yet, no session, no expiry, never used.
	bare := &store.AccessKey{AccessKeyID: "AKIAEXAMPLE00000001", PrincipalARN: user, Status: "Active", CreatedTime: at(1)}
	other := &store.AccessKey{AccessKeyID: "AKIAEXAMPLE00000000", PrincipalARN: user + "2", Status: "Active"}
	mustWrite(t, s, func(tx store.Tx) error {
		if err := tx.CreateAccessKey(bare); err != nil {
			return err
		}
		return tx.CreateAccessKey(other)
	})
	got = get(t, s, func(tx store.Tx) (*store.AccessKey, error) { return tx.GetAccessKey(bare.AccessKeyID) })
	check(t, "bare access key", normKey(*got), *bare)
	keys := get(t, s, func(tx store.Tx) ([]store.AccessKey, error) { return tx.ListAccessKeys(user) })
	check(t, "ListAccessKeys", normAll(keys, normKey), []store.AccessKey{*bare, *k})
	keys = get(t, s, func(tx store.Tx) ([]store.AccessKey, error) {
		return tx.ListAccessKeys("arn:aws:iam::111122223333:user/nobody")
	})
	check(t, "keys of an unknown principal", len(keys), 0)

	k.Status, k.LastUsed = "Inactive", at(7200)
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdateAccessKey(k) })
	got = get(t, s, func(tx store.Tx) (*store.AccessKey, error) { return tx.GetAccessKey(k.AccessKeyID) })
	check(t, "updated access key", normKey(*got), *k)
	missing := *k
	missing.AccessKeyID = "AKIANOPE"
	wantNotFound(t, "update missing access key", writeErr(t, s, func(tx store.Tx) error { return tx.UpdateAccessKey(&missing) }))

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteAccessKey(k.AccessKeyID) })
	wantNotFound(t, "deleted access key", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetAccessKey(k.AccessKeyID)) }))
	wantNotFound(t, "delete missing access key", writeErr(t, s, func(tx store.Tx) error { return tx.DeleteAccessKey(k.AccessKeyID) }))
	get(t, s, func(tx store.Tx) (*store.AccessKey, error) { return tx.GetAccessKey(bare.AccessKeyID) })
}

func testExpiredAccessKeys(t *testing.T, s store.Store) {
	now := at(1000)
	keys := map[string]time.Time{
		"ASIAPERMANENT": {},
		"ASIAEXPIRED1":  now.Add(-time.Hour),
		"ASIAEXPIRED2":  now.Add(-time.Nanosecond),
		"ASIAEXACT":     now, // not before now: still valid
		"ASIAFUTURE":    now.Add(time.Hour),
	}
	mustWrite(t, s, func(tx store.Tx) error {
		for id, exp := range keys {
			k := &store.AccessKey{AccessKeyID: id, PrincipalARN: "p", Status: "Active", Expiration: exp}
			if err := tx.CreateAccessKey(k); err != nil {
				return err
			}
		}
		return nil
	})
	var n int
	mustWrite(t, s, func(tx store.Tx) (err error) {
		n, err = tx.DeleteExpiredAccessKeys(now)
		return err
	})
	check(t, "expired keys deleted", n, 2)
	for id := range keys {
		err := readErr(t, s, func(tx store.Tx) error { return discard(tx.GetAccessKey(id)) })
		if id == "ASIAEXPIRED1" || id == "ASIAEXPIRED2" {
			wantNotFound(t, id, err)
		} else if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	mustWrite(t, s, func(tx store.Tx) (err error) {
		n, err = tx.DeleteExpiredAccessKeys(now)
		return err
	})
	check(t, "expired keys deleted again", n, 0)
}

// tags makes tags from key, value pairs.
func tags(kv ...string) []store.Tag {
	var out []store.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, store.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return out
}
