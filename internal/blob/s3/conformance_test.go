package s3

import (
	"testing"

	"coffer/internal/blob"
	"coffer/internal/blob/blobtest"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newTestStore(t, nil) })
}
