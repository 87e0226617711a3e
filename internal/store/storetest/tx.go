package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"coffer/internal/store"
)

// patience bounds every wait in the concurrency tests, so that a store that
// blocks fails them rather than hanging.
const patience = 10 * time.Second

func testRollback(t *testing.T, s store.Store) {
	errBoom := errors.New("boom")
	d := &store.Domain{Owner: "111122223333", Name: "acme", Status: "Active"}
	err := s.Write(t.Context(), func(tx store.Tx) error {
		if err := tx.PutSetting("k", "v"); err != nil {
			return err
		}
		if err := tx.CreateDomain(d); err != nil {
			return err
		}
		r := &store.Repository{DomainID: d.ID, Name: "main"}
		if err := tx.CreateRepository(r); err != nil {
			return err
		}
		return fmt.Errorf("failing on purpose: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Write returned %v, want the error of fn", err)
	}
	wantNotFound(t, "setting of a rolled back write", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetSetting("k")) }))
	wantNotFound(t, "domain of a rolled back write", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetDomain(d.Owner, d.Name)) }))
	// The store is usable afterwards and the key is free.
	addDomain(t, s, d.Owner, d.Name)

	// A read returns the error of fn too.
	if err := s.Read(t.Context(), func(store.Tx) error { return errBoom }); !errors.Is(err, errBoom) {
		t.Errorf("Read returned %v, want the error of fn", err)
	}
}

func testPanic(t *testing.T, s store.Store) {
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic of fn did not reach the caller")
			}
		}()
		s.Write(t.Context(), func(tx store.Tx) error {
			if err := tx.PutSetting("k", "v"); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	// The transaction was rolled back and the writer released.
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.PutSetting("after", "panic") }); err != nil {
		t.Fatalf("write after a panic: %v", err)
	}
	wantNotFound(t, "setting of a write that panicked", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetSetting("k")) }))
}

// testConflictKeepsTransaction checks that a conflict fails one statement,
// not the transaction: the service may try a create and fall back to a get.
func testConflictKeepsTransaction(t *testing.T, s store.Store) {
	addDomain(t, s, "111122223333", "acme")
	mustWrite(t, s, func(tx store.Tx) error {
		err := tx.CreateDomain(&store.Domain{Owner: "111122223333", Name: "acme", Status: "Active"})
		wantConflict(t, "duplicate domain", err)
		if _, err := tx.GetDomain("111122223333", "acme"); err != nil {
			return err
		}
		return tx.PutSetting("after", "conflict")
	})
	check(t, "setting after a conflict", get(t, s, func(tx store.Tx) (string, error) { return tx.GetSetting("after") }), "conflict")
}

func testReadOnly(t *testing.T, s store.Store) {
	err := s.Read(t.Context(), func(tx store.Tx) error { return tx.PutSetting("k", "v") })
	if err == nil {
		t.Error("a write in a read transaction succeeded")
	}
	wantNotFound(t, "setting written in a read", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetSetting("k")) }))
}

// testSnapshot checks that a read transaction keeps seeing the state it
// started with while a write commits.
func testSnapshot(t *testing.T, s store.Store) {
	mustWrite(t, s, func(tx store.Tx) error { return tx.PutSetting("k", "1") })
	err := s.Read(t.Context(), func(tx store.Tx) error {
		v, err := tx.GetSetting("k")
		if err != nil {
			return err
		}
		check(t, "value at the start of the read", v, "1")
		done := make(chan error, 1)
		go func() {
			done <- s.Write(t.Context(), func(tx store.Tx) error {
				if err := tx.PutSetting("k", "2"); err != nil {
					return err
				}
				return tx.PutSetting("new", "x")
			})
		}()
		select {
		case err := <-done:
			if err != nil {
				return err
			}
		case <-time.After(patience):
			t.Fatal("a write waited for an open read")
		}
		v, err = tx.GetSetting("k")
		if err != nil {
			return err
		}
		check(t, "value in the read after a write", v, "1")
		wantNotFound(t, "setting created after the read started", discard(tx.GetSetting("new")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "value after the read", get(t, s, func(tx store.Tx) (string, error) { return tx.GetSetting("k") }), "2")
}

// testLongWriteDoesNotBlockRead holds a write transaction open and reads
// meanwhile: the read neither waits nor sees the uncommitted domain.
func testLongWriteDoesNotBlockRead(t *testing.T, s store.Store) {
	addDomain(t, s, "111122223333", "before")
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Write(t.Context(), func(tx store.Tx) error {
			if err := tx.CreateDomain(&store.Domain{Owner: "111122223333", Name: "held", Status: "Active"}); err != nil {
				return err
			}
			close(started)
			select {
			case <-release:
			case <-time.After(patience):
			}
			return nil
		})
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("write failed: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), patience/2)
	defer cancel()
	begin := time.Now()
	var names []string
	err := s.Read(ctx, func(tx store.Tx) error {
		if _, err := tx.GetDomain("111122223333", "held"); err == nil {
			t.Error("a read saw an uncommitted domain")
		}
		ds, err := tx.ListDomains(store.Page{})
		for _, d := range ds {
			names = append(names, d.Name)
		}
		return err
	})
	elapsed := time.Since(begin)
	close(release)
	if err != nil {
		t.Fatalf("read during a write: %v (after %v)", err, elapsed)
	}
	check(t, "domains during the write", names, []string{"before"})
	if err := <-done; err != nil {
		t.Fatalf("write: %v", err)
	}
	get(t, s, func(tx store.Tx) (*store.Domain, error) { return tx.GetDomain("111122223333", "held") })
}

// testConcurrentWrites writes unique rows from many goroutines, with reads
// going on, and checks that every row persists.
func testConcurrentWrites(t *testing.T, s store.Store) {
	const writers, each = 8, 20
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.Read(t.Context(), func(tx store.Tx) error {
					_, err := tx.ListDomains(store.Page{Limit: 10})
					return err
				})
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
			}
		})
	}
	var writing sync.WaitGroup
	for w := range writers {
		writing.Go(func() {
			for i := range each {
				name := fmt.Sprintf("d-%d-%d", w, i)
				err := s.Write(t.Context(), func(tx store.Tx) error {
					if err := tx.CreateDomain(&store.Domain{Owner: "111122223333", Name: name, Status: "Active"}); err != nil {
						return err
					}
					return tx.PutSetting(name, strconv.Itoa(i))
				})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	writing.Wait()
	close(stop)
	wg.Wait()
	ds := get(t, s, func(tx store.Tx) ([]store.Domain, error) { return tx.ListDomains(store.Page{}) })
	check(t, "domains written concurrently", len(ds), writers*each)
	for w := range writers {
		for i := range each {
			name := fmt.Sprintf("d-%d-%d", w, i)
			check(t, "setting "+name, get(t, s, func(tx store.Tx) (string, error) { return tx.GetSetting(name) }), strconv.Itoa(i))
		}
	}
}

// testSerialisedWrites increments a counter with read-modify-write
// transactions from many goroutines: no increment may be lost.
func testSerialisedWrites(t *testing.T, s store.Store) {
	const goroutines, each = 8, 10
	mustWrite(t, s, func(tx store.Tx) error { return tx.PutSetting("counter", "0") })
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				err := s.Write(t.Context(), func(tx store.Tx) error {
					v, err := tx.GetSetting("counter")
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(v)
					if err != nil {
						return err
					}
					return tx.PutSetting("counter", strconv.Itoa(n+1))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	check(t, "counter", get(t, s, func(tx store.Tx) (string, error) { return tx.GetSetting("counter") }), strconv.Itoa(goroutines*each))
}

// testCancelled checks that a transaction whose context ends fails without
// committing anything, and that the store stays usable.
func testCancelled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.PutSetting("a", "1") }); err == nil {
		t.Error("Write with a cancelled context succeeded")
	}
	if err := s.Read(ctx, func(tx store.Tx) error { return discard(tx.GetSetting("a")) }); err == nil {
		t.Error("Read with a cancelled context succeeded")
	}

	ctx, cancel = context.WithCancel(t.Context())
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.PutSetting("b", "1"); err != nil {
			return err
		}
		cancel()
		if err := tx.PutSetting("c", "1"); err != nil {
			return err
		}
		return nil
	})
	if err == nil {
		t.Error("Write whose context was cancelled midway succeeded")
	}
	for _, k := range []string{"a", "b", "c"} {
		wantNotFound(t, "setting "+k+" of a cancelled write", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetSetting(k)) }))
	}
	mustWrite(t, s, func(tx store.Tx) error { return tx.PutSetting("d", "1") })
	check(t, "setting after cancellations", get(t, s, func(tx store.Tx) (string, error) { return tx.GetSetting("d") }), "1")
}
