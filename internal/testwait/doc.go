// Package testwait is the one polling helper of the module's tests: wait until a condition holds,
// or fail the test after a timeout.
package testwait
