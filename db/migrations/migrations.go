// Package migrations embeds the application's SQL migrations so that the
// worker binary can apply them without the files on disk. River's own schema
// is not here: rivermigrate applies it from the same `worker migrate`.
package migrations

import "embed"

// FS holds the golang-migrate files, named NNNNNN_name.up.sql / .down.sql.
//
//go:embed *.sql
var FS embed.FS
