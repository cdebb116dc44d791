// Package devnet holds the loopback plumbing the local harnesses share
// (make demo, make chaos, make bench): picking a free port and waiting for
// a process to answer ready.
package devnet

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// FreeAddr returns a loopback address with a port free right now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// WaitOK polls url until it answers 200, ctx ends, timeout passes, or
// exited (if not nil) is closed: a process that died will never be ready.
func WaitOK(ctx context.Context, url string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	// A replica that accepts connections but hangs must not hang the wait.
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		select {
		case <-exited:
			return fmt.Errorf("the process exited before %s answered", url)
		default:
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
