package console

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	"coffer/internal/fault"
	"coffer/internal/gencache"
	"coffer/internal/store"
)

// Sign-out revokes the session: a sealed cookie cannot be taken back from a
// browser (or from whoever copied it), so the server remembers which
// sessions were signed out, in the metadata store, where every node of a
// cluster and every later process finds it. There is one settings record per
// access key, signedOutPrefix+<key id>, holding the ids of that key's
// signed-out sessions with their expiry. Writing the record drops the ids
// that have expired (an expired session is refused anyway), so it stays
// small; should a key still have more than maxSignedOut live signed-out
// sessions, they are replaced by a time before which every session of the
// key counts as signed out. Every request checks the record of its key; the
// records read are kept until the store's next write (package gencache).

const (
	signedOutPrefix = "console-signed-out/"
	maxSignedOut    = 256
	// sessionIDSize is the size of a session's random id.
	sessionIDSize = 16
)

// signOuts is the record of one access key's signed-out sessions.
type signOuts struct {
	// Sessions maps the id (base64) of each signed-out session to its
	// expiry (Unix seconds).
	Sessions map[string]int64 `json:"s,omitempty"`
	// Before, when set, signs out every session issued at or before this
	// time (Unix seconds).
	Before int64 `json:"b,omitempty"`
}

// revokes reports whether r signs out s.
func (r *signOuts) revokes(s *session) bool {
	if r.Before != 0 && s.Issued <= r.Before {
		return true
	}
	_, ok := r.Sessions[base64.RawURLEncoding.EncodeToString(s.ID)]
	return ok
}

// readSignOuts reads the record of keyID; an absent record is empty.
func readSignOuts(tx store.Tx, keyID string) (*signOuts, error) {
	v, err := tx.GetSetting(signedOutPrefix + keyID)
	if errors.Is(err, fault.ErrNotFound) {
		return &signOuts{}, nil
	} else if err != nil {
		return nil, err
	}
	var r signOuts
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fault.Internal(err, "console: the sign-out record of %s is damaged", keyID)
	}
	return &r, nil
}

// signOutCache keeps the records read, per access key, until the store's next
// write.
type signOutCache = gencache.Cache[string, *signOuts]

func newSignOutCache() *signOutCache { return gencache.New[string, *signOuts](4096) }

// signedOut reports whether s was signed out. An error (the store does not
// answer) is to be taken as signed out.
func (c *Console) signedOut(ctx context.Context, s *session) (bool, error) {
	gen := c.cfg.Store.Generation() // before the read: see package gencache
	r, ok := c.signOuts.Get(s.KeyID, gen)
	if !ok {
		err := c.cfg.Store.Read(ctx, func(tx store.Tx) error {
			var err error
			r, err = readSignOuts(tx, s.KeyID)
			return err
		})
		if err != nil {
			return true, err
		}
		c.signOuts.Put(s.KeyID, gen, r)
	}
	return r.revokes(s), nil
}

// revoke records that s was signed out.
func (c *Console) revoke(ctx context.Context, s *session) error {
	now := c.now().Unix()
	return c.cfg.Store.Write(ctx, func(tx store.Tx) error {
		r, err := readSignOuts(tx, s.KeyID)
		if err != nil {
			return err
		}
		for id, exp := range r.Sessions {
			if exp <= now {
				delete(r.Sessions, id)
			}
		}
		if r.Before != 0 && r.Before+int64(c.cfg.SessionTTL.Seconds()) < now {
			r.Before = 0 // every session it signed out has expired
		}
		if len(r.Sessions) >= maxSignedOut {
			r.Sessions, r.Before = nil, max(r.Before, now, s.Issued)
		} else {
			if r.Sessions == nil {
				r.Sessions = map[string]int64{}
			}
			r.Sessions[base64.RawURLEncoding.EncodeToString(s.ID)] = s.Expires
		}
		b, err := json.Marshal(r)
		if err != nil {
			return fault.Internal(err, "console: encoding a sign-out record")
		}
		return tx.PutSetting(signedOutPrefix+s.KeyID, string(b))
	})
}
