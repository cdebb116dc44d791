//go:build !linux

package main

import "syscall"

// stopWithParent does nothing where the kernel cannot tell a child its
// parent died: the demo stops its children on every signal it can catch.
func stopWithParent(*syscall.SysProcAttr) {}
