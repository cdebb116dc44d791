package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// TestIngestKeepsTheCustomersRegion: a lead ingested from a CRM customer
// whose address is in Texas (by name or by code, in either CRM) is stored
// with the region US-TX; one whose state no one can read ("Tejas") is
// kept, with no region and a contact problem naming the field, its phone
// and email intact; one without an address has no region and no problem.
func TestIngestKeepsTheCustomersRegion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	sm := b.addShop(t, "region")
	tm := b.addTekmetricShop(t, "regiontm", 43, nil)

	texas, err := b.sandbox.ShopMonkey.AddLead(sm.CRMLocationID, fakeshopmonkey.LeadSpec{FirstName: "Ann",
		Phone: "(312) 401-2001", Email: "ann@example.com", State: "Texas"})
	require.NoError(t, err)
	tejas, err := b.sandbox.ShopMonkey.AddLead(sm.CRMLocationID, fakeshopmonkey.LeadSpec{FirstName: "Bo",
		Phone: "(312) 401-2002", Email: "bo@example.com", State: "Tejas"})
	require.NoError(t, err)
	ontario, err := b.sandbox.ShopMonkey.AddLead(sm.CRMLocationID, fakeshopmonkey.LeadSpec{FirstName: "Cy",
		Phone: "(312) 401-2003", Email: "cy@example.com", State: "ON", Country: "Canada"})
	require.NoError(t, err)
	nowhere, err := b.sandbox.ShopMonkey.AddLead(sm.CRMLocationID, fakeshopmonkey.LeadSpec{FirstName: "Di",
		Phone: "(312) 401-2004", Email: "di@example.com"})
	require.NoError(t, err)
	tmTexas, err := b.sandbox.Tekmetric.AddLead(43, faketekmetric.LeadSpec{FirstName: "Ed",
		Phone: "312-401-2005", Email: "ed@example.com", State: "TX"})
	require.NoError(t, err)

	client := b.startClient(t, jobs.ClientOpts{ScheduleInterval: time.Hour})
	for _, shop := range []lead.Tenant{sm, tm} {
		_, err := client.Insert(ctx, jobs.PollCRMArgs{TenantID: shop.ID, Live: true,
			Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute)}, nil)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'ingest_lead' AND finalized_at IS NOT NULL`) == 5
	}, 30*time.Second, 50*time.Millisecond)
	b.settled(t, "ingest_lead")

	type stored struct{ region, problem, phone, email string }
	read := func(shop lead.Tenant, externalID string) stored {
		t.Helper()
		var s stored
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT customer_region, contact_problem, coalesce(phone, ''), coalesce(email, '')
			FROM leads WHERE tenant_id = $1 AND external_id = $2`, shop.ID, externalID).Scan(&s.region, &s.problem, &s.phone, &s.email))
		return s
	}
	require.Equal(t, stored{"US-TX", "", "+13124012001", "ann@example.com"}, read(sm, texas.ExternalID))
	require.Equal(t, stored{"", `invalid customer.address.state: "Tejas" is not a US state or Canadian province (its code, such as TX, or its name)`,
		"+13124012002", "bo@example.com"}, read(sm, tejas.ExternalID), "kept, with the problem named")
	require.Equal(t, stored{"CA-ON", "", "+13124012003", "cy@example.com"}, read(sm, ontario.ExternalID))
	require.Equal(t, stored{"", "", "+13124012004", "di@example.com"}, read(sm, nowhere.ExternalID))
	require.Equal(t, stored{"US-TX", "", "+13124012005", "ed@example.com"}, read(tm, tmTexas.ExternalID))
}
