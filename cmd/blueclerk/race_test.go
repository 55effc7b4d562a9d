//go:build race

package main

// raceEnabled says the tests run with the race detector, so the command
// they build is built with it too.
const raceEnabled = true
