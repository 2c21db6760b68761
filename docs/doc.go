// Package docs holds the project's documentation (Markdown) and the test that keeps design.md's
// package table equal to the module's packages. It has no code.
package docs
