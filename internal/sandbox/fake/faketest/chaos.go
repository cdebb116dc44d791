package faketest

import (
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chaosClient never reuses a connection, so that a dropped one reaches the
// test instead of being retried by the transport.
// ChaosClient is a client that opens a new connection for every request,
// so a fault that drops one never spoils the next.
func ChaosClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

// Attempt sends req and returns the answer's status, or the error when no
// answer came.
func Attempt(t *testing.T, c *http.Client, req *http.Request) (int, error) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, nil
}

// IsTimeout reports whether err is a client giving up waiting.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// RequireDropped checks that the client got no HTTP answer at all, and
// not because it gave up waiting: a reset connection when reset, else one
// closed early.
func RequireDropped(t *testing.T, err error, reset bool) {
	t.Helper()
	require.Error(t, err)
	require.False(t, IsTimeout(err), "want a dropped connection, got a timeout: %v", err)
	if reset {
		require.ErrorIs(t, err, syscall.ECONNRESET)
		return
	}
	require.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "want a closed connection, got %v", err)
}
