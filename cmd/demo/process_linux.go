package main

import "syscall"

// stopWithParent has the kernel send the child SIGTERM when the demo dies,
// however it dies: a SIGKILL of the demo, or of its terminal's session,
// must not leave workers running against a database that is gone.
func stopWithParent(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGTERM
}
