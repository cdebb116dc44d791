// Package architecture holds no code, only tests: they enforce the rules of
// ARCHITECTURE.md at the repository root, so a change that breaks the layout
// fails `make test` instead of waiting for a reviewer to notice.
//
// The import rules are one table (import_rules_test.go): which of our packages
// each room may import, and which rooms only some packages may import. The size
// rules (size_test.go) keep files and functions short enough to read: no
// non-test file outside cmd/ over 600 lines, and no function over 80 lines
// unless the comment directly above it gives the reason in a sentence starting
// "Long because".
package architecture
