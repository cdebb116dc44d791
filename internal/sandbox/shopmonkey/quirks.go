package fakeshopmonkey

import "slices"

// SetUnstableSkip makes list calls with skip > 0 start a few rows before or
// after where they should, as the live API does: paging with skip then loses
// and repeats rows.
func (s *API) SetUnstableSkip(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unstableSkip = on
}

// SetDuplicatePageRate makes an order or appointment list call, with
// probability p, repeat the tail of its page within data, as the live API's
// unstable paging does; the adapter must dedupe by id. Zero turns it off.
func (s *API) SetDuplicatePageRate(p float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.duplicatePageRate = p
}

// SetDropRecordRate makes an order or appointment list call, with
// probability p, silently leave one random row out of its page while
// meta.total still counts it. The row is not deleted, and the next page that
// covers it always shows it, so overlapping poll windows still find it. Zero
// turns it off.
func (s *API) SetDropRecordRate(p float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropRecordRate = p
}

// Quirks are the list quirks a ShopMonkey fake is reproducing, as
// the control API reads and sets them.
type Quirks struct {
	UnstableSkip      bool    `json:"unstable_skip"`
	DuplicatePageRate float64 `json:"duplicate_page_rate"`
	DropRecordRate    float64 `json:"drop_record_rate"`
}

// Quirks returns the list quirks in force.
func (s *API) Quirks() Quirks {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Quirks{UnstableSkip: s.unstableSkip, DuplicatePageRate: s.duplicatePageRate, DropRecordRate: s.dropRecordRate}
}

// listQuirks applies the drop-record and duplicate-page quirks to the rows
// of one page. s.mu must be held.
func (s *API) listQuirks(page []*storedRow) []*storedRow {
	page = slices.Clone(page)
	if s.dropRecordRate > 0 && len(page) > 0 && s.quirkRNG.Float64() < s.dropRecordRate {
		var candidates []int
		for i, row := range page {
			if !s.dropped[row] {
				candidates = append(candidates, i)
			}
		}
		if len(candidates) > 0 {
			i := candidates[s.quirkRNG.IntN(len(candidates))]
			s.dropped[page[i]] = true
			page = slices.Delete(page, i, i+1)
		}
	}
	for _, row := range page {
		delete(s.dropped, row)
	}
	if s.duplicatePageRate > 0 && len(page) > 0 && s.quirkRNG.Float64() < s.duplicatePageRate {
		page = append(page, page[s.quirkRNG.IntN(len(page)):]...)
	}
	return page
}
