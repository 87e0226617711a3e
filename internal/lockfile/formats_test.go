package lockfile_test

import (
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/lockfile"
)

// The format names are spelled out in lockfile (so that the artifact
// service may import it); they must stay those of the format table.
func TestFormatsAreArtifactFormats(t *testing.T) {
	want := map[string]string{
		lockfile.KindPackageLock:  artifact.FormatNpm,
		lockfile.KindRequirements: artifact.FormatPypi,
		lockfile.KindCargoLock:    artifact.FormatCargo,
		lockfile.KindGemfileLock:  artifact.FormatRuby,
		lockfile.KindMaven:        artifact.FormatMaven,
	}
	if len(lockfile.Kinds()) != len(want) {
		t.Fatalf("Kinds() = %v", lockfile.Kinds())
	}
	for _, kind := range lockfile.Kinds() {
		if got := lockfile.Format(kind); got != want[kind] {
			t.Errorf("Format(%s) = %q, want %q", kind, got, want[kind])
		}
	}
}
