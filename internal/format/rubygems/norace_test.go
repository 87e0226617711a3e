//go:build !race

package rubygems

const raceEnabled = false
