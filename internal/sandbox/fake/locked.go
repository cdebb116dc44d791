package fake

import "sync"

// Set sets *field to v under mu. A fake's settings change while its
// handlers read them under the same lock; each fake had written the
// lock-and-assign setter out for every setting.
func Set[T any](mu *sync.Mutex, field *T, v T) {
	mu.Lock()
	defer mu.Unlock()
	*field = v
}

// Update replaces *field with next(*field) under mu, for a setting that
// depends on its value so far.
func Update[T any](mu *sync.Mutex, field *T, next func(T) T) {
	mu.Lock()
	defer mu.Unlock()
	*field = next(*field)
}
