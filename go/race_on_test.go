//go:build race

package net

// raceEnabled: under -race, sync.Pool drops items at random, so pooled paths allocate.
const raceEnabled = true
