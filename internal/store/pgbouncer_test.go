package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/testdb"
)

// pooledBundle is a test database whose application role reaches it only
// through a real PgBouncer in transaction mode with one server connection:
// every transaction of every client runs on that one session, one after
// another, as a busy fleet's do on a small pool.
type pooledBundle struct {
	db      testdb.DB
	bouncer *testdb.PgBouncer
	url     string // the application role's URL through the pooler
}

func setupPooled(t *testing.T) *pooledBundle {
	t.Helper()
	db := testdb.NewApp(t)
	bouncer := testdb.StartPgBouncer(t, db.AppURL, testdb.PgBouncerOpts{PoolSize: 1})
	return &pooledBundle{db: db, bouncer: bouncer, url: bouncer.URL(db.AppURL)}
}

func (b *pooledBundle) pool(t *testing.T, mode string) *pgxpool.Pool {
	t.Helper()
	pool, err := store.NewPool(context.Background(), b.url, store.PoolOpts{MaxConns: 4, QueryExecMode: mode})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// TestPgBouncerNeedsQueryExecMode shows why database.query_exec_mode
// exists: through PgBouncer 1.18 in transaction mode, pgx's default
// (cache_statement) fails as soon as two client connections prepare the
// same statement on one server connection, while exec, simple_protocol
// and cache_describe run the same store methods cleanly.
func TestPgBouncerNeedsQueryExecMode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode    string
		wantErr bool
	}{
		{"cache_statement", true},
		{"exec", false},
		{"simple_protocol", false},
		{"cache_describe", false},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setupPooled(t)
			pool := b.pool(t, tt.mode)
			keys, _ := fixture.Keyring(t, "test")
			shop := fixture.Create(t, store.New(pool), keys, fixture.ShopMonkeyTenant("pine"), "key-pine")

			// Two client connections at once, one server connection: the
			// second prepares its statements where the first already did.
			c1, err := pool.Acquire(ctx)
			require.NoError(t, err)
			defer c1.Release()
			c2, err := pool.Acquire(ctx)
			require.NoError(t, err)
			defer c2.Release()
			var errs []error
			for range 2 {
				for _, c := range []*pgxpool.Conn{c1, c2} {
					_, err := store.New(c).GetTenant(ctx, shop.ID)
					errs = append(errs, err)
				}
			}
			err = errors.Join(errs...)
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			var pgErr *pgconn.PgError
			require.ErrorAs(t, err, &pgErr)
			// 42P05: prepared statement "stmtcache_..." already exists;
			// 26000: ... does not exist.
			require.Contains(t, []string{"42P05", "26000"}, pgErr.Code, "%v", err)
		})
	}
}

// TestPgBouncerKeepsTenantsApart: behind the pooler, where one server
// connection serves tenant A's transaction and then tenant B's, each sees
// only its own rows, and nothing of either's setting is left on the
// session for the next client: the tenant is named per transaction
// (set_config(..., true)), never per session.
func TestPgBouncerKeepsTenantsApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupPooled(t)
	pool := b.pool(t, "exec")
	st := store.New(pool)
	keys, _ := fixture.Keyring(t, "test")
	tenants := []lead.Tenant{
		fixture.Create(t, st, keys, fixture.ShopMonkeyTenant("a"), "key-a"),
		fixture.Create(t, st, keys, fixture.ShopMonkeyTenant("b"), "key-b"),
	}
	leads := make([]uuid.UUID, len(tenants))
	for i, tn := range tenants {
		id, _, err := st.UpsertLead(ctx, tn.ID, fixture.Lead("order:"+tn.Name), false)
		require.NoError(t, err)
		leads[i] = id
	}

	var session int32
	require.NoError(t, pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&session))
	for round := range 10 {
		for i, tn := range tenants {
			other := leads[1-i]
			// A single-row read (tenant setting and query in one batch)
			// and a transaction of its own (MarkLeadContacted).
			got, err := st.GetLead(ctx, tn.ID, leads[i])
			require.NoError(t, err, "round %d, tenant %s", round, tn.Name)
			require.Equal(t, leads[i], got.ID)
			_, err = st.GetLead(ctx, tn.ID, other)
			require.ErrorIs(t, err, store.ErrNotFound, "tenant %s read another's lead", tn.Name)
			require.NoError(t, st.MarkLeadContacted(ctx, tn.ID, leads[i]))

			// The next client on the same session names no tenant: it
			// must see none, not the one before it.
			var visible int
			var setting *string
			var pid int32
			require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM leads),
				nullif(current_setting('leadorch.tenant_id', true), ''), pg_backend_pid()`).Scan(&visible, &setting, &pid))
			require.Zero(t, visible, "after tenant %s's transaction", tn.Name)
			require.Nil(t, setting, "tenant setting left on the session after tenant %s", tn.Name)
			require.Equal(t, session, pid, "one server connection serves every transaction")
		}
	}
	// The app role's only sessions are the pooler's one server connection.
	var sessions int
	require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND usename = $1`, testdb.AppRole).Scan(&sessions))
	require.Equal(t, 1, sessions)
}
