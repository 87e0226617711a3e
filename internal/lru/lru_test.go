package lru

import "testing"

func TestFingerprintMisses(t *testing.T) {
	c := New[string](1 << 20)
	c.Put("k", 1, "v1", 10)
	if v, ok := c.Get("k", 1); !ok || v != "v1" {
		t.Fatalf("Get = %q, %v", v, ok)
	}
	if _, ok := c.Get("k", 2); ok {
		t.Fatal("a value built from another source was served")
	}
	c.Put("k", 2, "v2", 10)
	if v, ok := c.Get("k", 2); !ok || v != "v2" {
		t.Fatalf("replaced value = %q, %v", v, ok)
	}
	if s := c.Size(); s != 10+1+entryOverhead {
		t.Fatalf("Size = %d after a replacement", s)
	}
}

func TestBoundedLeastRecentlyUsedFirst(t *testing.T) {
	per := int64(100 + 1 + entryOverhead)
	c := New[int](3 * per)
	for i, k := range []string{"a", "b", "c"} {
		c.Put(k, 0, i, 100)
	}
	c.Get("a", 0) // b is now the least recently used
	c.Put("d", 0, 3, 100)
	if _, ok := c.Get("b", 0); ok {
		t.Error("the least recently used entry was kept")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Get(k, 0); !ok {
			t.Errorf("%s was evicted", k)
		}
	}
	if c.Size() > 3*per {
		t.Errorf("Size %d over the bound %d", c.Size(), 3*per)
	}
	c.Put("huge", 0, 9, 10*per)
	if _, ok := c.Get("huge", 0); ok {
		t.Error("a value larger than the cache was kept")
	}
}

func TestDelete(t *testing.T) {
	c := New[string](1 << 10)
	c.Put("a", 1, "x", 10)
	c.Delete("a")
	c.Delete("missing")
	if _, ok := c.Get("a", 1); ok || c.Size() != 0 {
		t.Fatalf("after Delete: found %v, size %d", ok, c.Size())
	}
}
